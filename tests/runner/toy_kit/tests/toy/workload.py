"""The toy family's performance workload: n operations, each of the unlocked stages."""

STAGE_OPERATIONS = {1: "add", 2: "sub", 3: "mul", 4: "div"}


def workload(impl, n, stages):
    ops = [impl.add, impl.sub, impl.mul, impl.div][:stages]
    for i in range(n):
        ops[i % stages](i + 1, 1)
    return n
