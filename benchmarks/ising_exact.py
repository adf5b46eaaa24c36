"""Exact density of states g(E) of the periodic 2D Ising model, in integers.

Computed from the Pfaffian (Kaufman) solution of the periodic lattice, not
from a transfer matrix (which would need 2^16 x 2^16 matrices of polynomials at L = 16):
Z = 2^N cosh(K)^(2N) P(t), t = tanh K, where P(t) = sum_l c_l t^l counts the even
subgraphs with l bonds and is (-Pf_PP + Pf_PA + Pf_AP + Pf_AA) / 2; each Pfaffian is a
product over lattice momenta, one factor (1 + t^2)^2 - 2t(1 - t^2)(cos a + cos b) per
pair of opposite momenta and its polynomial square root 1 - c t + (1 - c^2 / 2) t^2,
c = cos a + cos b, at the momenta equal to their opposite. The products run in 300-digit
decimal arithmetic, the c_l are rounded to integers (checked to be within 1e-30 of one,
non-negative, with c_0 = 1 and sum 2^(N+1)), and g follows exactly in integers from
sum_k g_k y^(2N-k) = 2^-N sum_l c_l (y + 1)^(2N-l) (y - 1)^l.
"""

from decimal import Decimal, getcontext, localcontext

__all__ = ["ising_counts"]

# Decimal digits of the Pfaffian products: the counts reach 2^(N+1).
DIGITS = 300


def _arctan_of_inverse(x):
    """arctan(1 / x) for an integer x > 1, to the current decimal precision."""
    tiny = Decimal(10) ** -(getcontext().prec + 5)
    power, x2 = Decimal(1) / x, x * x
    total, k = Decimal(0), 0
    while power > tiny:
        term = power / (2 * k + 1)
        total = total - term if k % 2 else total + term
        power /= x2
        k += 1
    return total


def _decimal_pi():
    """Pi from Machin's formula, pi = 16 arctan(1/5) - 4 arctan(1/239)."""
    return 16 * _arctan_of_inverse(5) - 4 * _arctan_of_inverse(239)


def _decimal_cos(x):
    """cos(x) for |x| <= 2 pi by its Taylor series, to the current decimal precision."""
    tiny = Decimal(10) ** -(getcontext().prec + 5)
    term, total, k = Decimal(1), Decimal(1), 0
    while abs(term) > tiny or k < 4:
        term = -term * x * x / ((2 * k + 1) * (2 * k + 2))
        total += term
        k += 1
    return total


def _pfaffian(rows, cols, shift_r, shift_c, cos_r, cos_c):
    """Coefficients (Decimal, ascending in t) of one Pfaffian as a product over momenta.

    Momenta are a = j pi / rows, b = i pi / cols with j = 2p + shift_r, i = 2q + shift_c
    (shift 0: periodic, 1: antiperiodic).
    """
    degree = 2 * rows * cols
    poly = [Decimal(0)] * (degree + 1)
    poly[0] = Decimal(1)
    top = 0
    for p in range(rows):
        j = 2 * p + shift_r
        j_opp = (2 * rows - j) % (2 * rows)
        for q in range(cols):
            i = 2 * q + shift_c
            i_opp = (2 * cols - i) % (2 * cols)
            c = cos_r[j] + cos_c[i]
            new = [Decimal(0)] * (degree + 1)
            if (j, i) == (j_opp, i_opp):
                # Self-opposite momentum: c is -2, 0 or 2; the signed square root.
                c_int = int(c.to_integral_value())
                root = (1, -c_int, 1 - c_int * c_int // 2)
                for a in range(top + 1):
                    for power, coef in enumerate(root):
                        if coef:
                            new[a + power] += coef * poly[a]
                top += 2
            elif (j, i) < (j_opp, i_opp):
                # One factor per pair of opposite momenta: 1 - 2c t + 2t^2 + 2c t^3 + t^4.
                two_c = 2 * c
                for a in range(top + 1):
                    x = poly[a]
                    y = two_c * x
                    new[a] += x
                    new[a + 1] -= y
                    new[a + 2] += 2 * x
                    new[a + 3] += y
                    new[a + 4] += x
                top += 4
            else:
                continue
            poly = new
    return poly


def ising_counts(rows, cols):
    """Exact g_k, k = number of unequal-spin bonds, of the periodic rows x cols lattice.

    Returns
    -------
    list of int
        ``g[k]`` for k = 0 ... 2N (Python integers, exact).
    """
    n = rows * cols
    degree = 2 * n
    with localcontext() as ctx:
        ctx.prec = max(DIGITS, int(0.31 * rows * cols) + 60)
        pi = _decimal_pi()
        cos_r = [_decimal_cos(pi * j / rows) for j in range(2 * rows)]
        cos_c = [_decimal_cos(pi * i / cols) for i in range(2 * cols)]
        pf = {(sr, sc): _pfaffian(rows, cols, sr, sc, cos_r, cos_c)
              for sr in (0, 1) for sc in (0, 1)}
        coeffs = []
        for power in range(degree + 1):
            value = (-pf[0, 0][power] + pf[0, 1][power] + pf[1, 0][power]
                     + pf[1, 1][power]) / 2
            rounded = int(value.to_integral_value())
            if abs(value - rounded) > Decimal("1e-30"):
                raise ArithmeticError(f"coefficient {power} is not an integer: {value}")
            coeffs.append(rounded)
    if coeffs[0] != 1 or min(coeffs) < 0 or sum(coeffs) != 2 ** (n + 1):
        raise ArithmeticError("even-subgraph polynomial failed its checks")
    # Horner in u = (y - 1) / (y + 1): r = sum_l c_l (y - 1)^l (y + 1)^(D - l).
    r = [0] * (degree + 1)
    power_plus = [1] + [0] * degree
    for power in range(degree, -1, -1):
        r = [(r[a - 1] if a else 0) - r[a] for a in range(degree + 1)]
        for a in range(degree - power + 1):
            r[a] += coeffs[power] * power_plus[a]
        power_plus = [power_plus[a] + (power_plus[a - 1] if a else 0)
                      for a in range(degree + 1)]
    counts = []
    for k in range(degree + 1):
        value, rest = divmod(r[degree - k], 2**n)
        if rest:
            raise ArithmeticError("g is not an integer")
        counts.append(value)
    if sum(counts) != 2**n:
        raise ArithmeticError("g does not sum to 2^N")
    return counts
