#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_lrn.cpp into its corpus/ folder: python3 native/fuzz/make_corpus.py

Each seed is one input in the layout that fuzz_lrn.cpp's header describes: a geometry (plain
shapes of every layout and region, and wild ones the checker must reject or clamp), a length
mode, and data in each of the value modes.
"""
import os
import struct

# The tables of fuzz_lrn.cpp, by the values the seeds use.
WILD = {'nan': 0, 'inf': 1, '-inf': 2, '-1': 3, '-0': 4, '0.5': 5, '2^52+16': 7, '2^53-1': 8,
        '2^53': 9, '2^63': 11, '2^64': 12, '4096': 13, '5e8': 14, '1e300': 15, '2^32': 18, '1e6': 26,
        '1e30': 28}
PARAMS = [0, 1e-4, 2e-5, 0.5, 0.75, 1, 2, 0.6, 1.3, 0.001, 0.25, 0.9,
          0.999, 3.5, 1e-2, 7, 8, 50, 1.5, 3, 1e-8, 1e4, 0.1, 0.3]
EXTREME_PARAMS = [1e-45, 1e-40, 1e-38, 2**-126, 2**-90, 1e-30, 1e-20, 1e-12, 1e20, 1e30, 1e38, 1e39,
                  3.4028234663852886e38, 1e-6, 2**100, 2**-100]
RAW, UNIT, SPARSE, SPECIAL, CANCEL, EXPONENTS = 0, 2, 3, 4, 5, 1  # value modes
EXTREME, EXTREME_MIX = 240, 248  # float32's edges alone, and among values of -4 .. 4


def size(v):
    if isinstance(v, str):
        return bytes([192 + WILD[v]])
    if v < 64:
        return bytes([v])
    if v < 65536:
        return bytes([224]) + struct.pack('<H', v)
    return bytes([240]) + struct.pack('<d', v)


def param(v):
    if isinstance(v, str):
        return bytes([192 + WILD[v]])
    if v in PARAMS:
        return bytes([PARAMS.index(v)])
    if v in EXTREME_PARAMS:
        return bytes([224 + EXTREME_PARAMS.index(v)])
    return bytes([240]) + struct.pack("<d", v)


def pool(n, seed):
    out, s = bytearray(), seed
    for _ in range(n):
        s = (s * 1103515245 + 12345) % 2**31
        out.append(s >> 16 & 0xFF)
    return bytes(out)


def case(dims, window=(2, 2), nhwc=False, within=False, batch=1, channels=8, k=2, a=1e-4, beta=0.75,
         length='exact', x=(UNIT, 128), dy=(UNIT, 128), offset=0, exponent64=0, data=None, form=None, count=None):
    b = bytes([form if form is not None else int(nhwc) | int(within) << 1])
    if form is not None:  # layout and region from the wild table
        b += bytes([192 + WILD[nhwc], 192 + WILD[within]])
    b += bytes([208 + count if count is not None else len(dims)])
    b += size(batch) + size(channels) + size(window[0]) + size(window[1])
    b += param(k) + param(a) + param(beta)
    for d in dims:
        b += size(d)
    modes = {'exact': 0, '+1': 192, '-1': 208, 'zero': 224}
    b += bytes([modes[length]]) if length in modes else bytes([240]) + struct.pack('<Q', length)
    b += bytes([x[0], x[1], dy[0], dy[1], offset, exponent64])
    return b + (data if data is not None else pool(64, len(b) * 7919 + sum(b)))


SEEDS = {
    'alexnet_nchw': case([4, 4]),
    'nhwc_even_window': case([5], window=(2, 1), nhwc=True, batch=2, channels=13, beta=0.6, offset=1),
    'nhwc_wide': case([3], window=(4, 5), nhwc=True, channels=40, x=(UNIT, 136)),
    'nchw_wide_window': case([9], window=(8, 7), channels=33, a=1e-2, beta=1.3),
    'rank0_nc': case([], batch=3, channels=21, beta=0.5),
    'within_2d': case([7, 9], window=(1, 1), within=True, channels=2),
    'within_3d': case([4, 4, 4], window=(1, 0), within=True, nhwc=True, k=1, beta=1),
    'within_1d_long': case([70], window=(3, 3), within=True, a=1, beta=0.25),
    'raw_bits': case([3, 5], x=(RAW, 0), dy=(RAW, 0), offset=3),
    'exponents': case([16], channels=5, x=(EXPONENTS, 0), dy=(EXPONENTS, 0), nhwc=True),
    'specials': case([6], channels=7, x=(SPECIAL, 0), dy=(UNIT, 128), k=0),
    'sparse_relu': case([12], channels=16, x=(SPARSE, 0), dy=(SPARSE, 0)),
    'cancel': case([8], channels=16, x=(CANCEL, 0), dy=(UNIT, 128), k=1, a=3.5, beta=0.001),
    'scaled_large': case([4, 4], x=(UNIT, 180), dy=(UNIT, 128), a=1, beta=2),
    'backward_large_x': case([16], x=(UNIT, 174), dy=(UNIT, 128)),
    'backward_large_x_nhwc': case([5], channels=24, nhwc=True, x=(UNIT, 176), dy=(UNIT, 128), beta=1),
    'backward_huge_dy': case([60], batch=2, channels=2, window=(2, 4), k=0.75, a=0.999, x=(UNIT, 125), dy=(UNIT, 253)),
    'large_k': case([16], k='1e30', x=(UNIT, 150), dy=(SPARSE, 0)),
    'scaled_tiny': case([4, 4], x=(UNIT, 20), dy=(UNIT, 100), k=0, a=1e-8),
    'f64_huge': case([10], channels=6, exponent64=255),
    'f64_tiny': case([10], channels=6, exponent64=160),
    'big_beta': case([6], channels=9, k=0, a=1e4, beta=50),
    'beta_zero': case([5], channels=9, k=0, beta=0, x=(SPECIAL, 0)),
    'huge_windows': case([5], window=('5e8', '2^53-1'), channels=12),
    'huge_windows_within': case([6, 3], window=('2^53-1', '5e8'), within=True),
    'huge_dims_shrunk': case(['4096', '4096'], channels=96),
    'many_axes': case([1, 2, 1, 1, 3, 1, 1, 2, 1, 1], channels=3),
    'empty_batch': case([3], batch=0, channels='2^53-1'),
    'product_wraps': case(['2^52+16', '4096'], channels=1),
    'product_wraps_to_zero': case(['2^32', '2^32'], channels=1),
    'count_past_int64': case(['2^53-1'], batch=22, channels=52),
    'length_off_by_one': case([4, 4], length='+1'),
    'length_raw': case([4, 4], length=128),
    'length_zero': case([4, 4], length='zero'),
    'not_integers': case(['0.5'], window=('-1', '2^53')),
    'bad_params': case([4], k='nan', a='-1', beta='inf'),
    'bad_layout': case([4], form=248, nhwc='nan', within='-0'),
    'short': case([], count=5),
    'within_no_axis': case([], within=True),
    # Float32's edges: dy near its largest with small k and beta (t = dy*x*B^(-beta-1) overflows
    # while dx is finite), fewer NHWC channels than vector lanes, subnormal and tiny values.
    'extreme_nhwc_c1': case([16], nhwc=True, channels=1, k=1e-4, beta=1e-4, x=(UNIT, 128), dy=(EXTREME, 0)),
    'extreme_nhwc_c3_even': case([9], window=(2, 1), nhwc=True, channels=3, k=2e-5, beta=1e-8,
                                 x=(EXTREME_MIX, 0), dy=(EXTREME_MIX, 0)),
    'extreme_nchw_c5': case([11], channels=5, k=0.1, beta=0.6, x=(EXTREME_MIX, 0), dy=(EXTREME, 0)),
    'extreme_nhwc_c7_within': case([5, 4], window=(1, 1), within=True, nhwc=True, channels=7, x=(EXTREME, 0),
                                   dy=(EXTREME_MIX, 0)),
    # k, a or 2*a*beta that float32 rounds to a subnormal, 0 or infinity.
    'inexact_a_subnormal': case([8], channels=9, k=2**-90, a=1e-45, x=(EXTREME_MIX, 0), dy=(UNIT, 128)),
    'inexact_a_overflows': case([8], nhwc=True, channels=5, k=1e30, a=1e39, beta=0.6, x=(EXPONENTS, 0)),
    'inexact_2ab_subnormal': case([8], channels=6, k=2, a=1e-30, beta=1e-12, x=(UNIT, 128), dy=(EXTREME, 0)),
    # B^(-beta) or B^(-beta-1) past float64's normal range while the results are not: B near
    # float64's largest, and B near 0 with a large beta.
    'power_underflow_huge_a': case([8], channels=5, k=1, a=1e224, beta=1.1, x=(UNIT, 250), dy=(UNIT, 250)),
    'power_underflow_backward_f32': case([6], nhwc=True, channels=3, k=2, a=2.0**900, beta=0.2, x=(UNIT, 184),
                                         dy=(UNIT, 252)),
    'power_overflow_tiny_k': case([6], channels=5, k=1e-160, a=1e-300, beta=2, x=(UNIT, 0), dy=(UNIT, 0)),
}

if __name__ == '__main__':
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)
    print(f'{len(SEEDS)} seeds in {out}')
