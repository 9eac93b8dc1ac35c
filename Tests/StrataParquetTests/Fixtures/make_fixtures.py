"""Writes the pyarrow-made Parquet files the Swift tests read and fuzz (committed copies beside
this script; run it with pyarrow 26 to remake them: python3 make_fixtures.py).

pyarrow-v2-delta-bss.parquet: ZSTD, data pages v2, row groups of 50, DELTA_BINARY_PACKED INT64
  and INT32, BYTE_STREAM_SPLIT FLOAT, DOUBLE and FIXED_LEN_BYTE_ARRAY (DECIMAL(18,6)), RLE
  booleans, optional columns with nulls.
pyarrow-v1-dictionary.parquet: SNAPPY, data pages v1, row groups of 70, dictionary encoding.
"""
import os
import random
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(1)
n = 120
table = pa.table({
    "i": pa.array([None if k % 9 == 0 else rng.randrange(-2**63, 2**63) for k in range(n)], pa.int64()),
    "j": pa.array([rng.randrange(-2**31, 2**31) for _ in range(n)], pa.int32()),
    "f": pa.array([rng.random() for _ in range(n)], pa.float32()),
    "d": pa.array([None if k % 5 == 0 else rng.random() for k in range(n)], pa.float64()),
    "s": pa.array([None if k % 7 == 0 else rng.choice(["", "a", "ü", "bb"]) for k in range(n)], pa.string()),
    "b": pa.array([None if k % 4 == 0 else rng.randrange(2) == 1 for k in range(n)], pa.bool_()),
    "m": pa.array([Decimal(k) / 8 for k in range(n)], pa.decimal128(18, 6)),
})
pq.write_table(table, os.path.join(HERE, "pyarrow-v2-delta-bss.parquet"), compression="zstd", data_page_version="2.0",
               row_group_size=50, data_page_size=256, use_dictionary=False,
               column_encoding={"i": "DELTA_BINARY_PACKED", "j": "DELTA_BINARY_PACKED", "f": "BYTE_STREAM_SPLIT",
                                "d": "BYTE_STREAM_SPLIT", "m": "BYTE_STREAM_SPLIT"})
pq.write_table(table, os.path.join(HERE, "pyarrow-v1-dictionary.parquet"), compression="snappy", data_page_version="1.0",
               row_group_size=70, data_page_size=256)
# The expected values, for the Swift test: sums that any misread changes.
for name in table.column_names:
    print(name, table.column(name).to_pylist()[:3])
