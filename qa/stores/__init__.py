"""Alternative stores (docs/scaling-out.md): prototypes, not wired into Assistant yet."""
