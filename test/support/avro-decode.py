# Decodes Avro object container files with Apache's Avro implementation (Debian's python3-avro)
# and prints, as JSON, each file's key-value metadata and records. Values the JSON cannot hold
# keep their Avro type: bytes as {"bytes": hex}, a logical date as {"date": "YYYY-MM-DD"}.
import datetime
import json
import sys

from avro.datafile import DataFileReader
from avro.io import DatumReader


def plain(value):
    if isinstance(value, datetime.date):
        return {"date": value.isoformat()}
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


files = []
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        reader = DataFileReader(f, DatumReader())
        meta = {k: v.decode("utf-8") for k, v in reader.meta.items() if k != "avro.sync"}
        records = [plain(r) for r in reader]
        reader.close()
    files.append({"path": path, "meta": meta, "records": records})
json.dump(files, sys.stdout)
