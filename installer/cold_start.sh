#!/usr/bin/env bash
# Cold start of one or more built bundles, measured alternately in the same run (so the machine's load hits
# each alike): launch -> main window shown with the sample CT loaded, read from `--self-test`'s
# sample_study.since_launch_s (process start time from /proc to the volume on screen, first run: a new
# data folder, so the store is created and the sample study indexed).
#   bash installer/cold_start.sh ROUNDS BUNDLE_DIR [BUNDLE_DIR ...]    (BUNDLE_DIR holds the `medstation` executable)
# Prints one line per run (bundle, round, 1-min load average before it, since_launch_s, window s, sample_study s,
# the whole self-test s)
# and a JSON summary per bundle (median and each value). Each run uses an empty HOME and MEDSTATION_HOME,
# PATH=/usr/bin:/bin and nothing else inherited, as installer/prove.sh does.
set -euo pipefail
ROUNDS="$1"; shift
WORK="$(mktemp -d /tmp/medstation-coldstart-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
for round in $(seq "$ROUNDS"); do
  for bundle in "$@"; do
    name="$bundle"
    rm -rf "$WORK/home" "$WORK/data"; mkdir -p "$WORK/home" "$WORK/data"
    load="$(cut -d' ' -f1 /proc/loadavg)"
    (cd "$WORK" && env -i PATH=/usr/bin:/bin HOME="$WORK/home" MEDSTATION_HOME="$WORK/data" LANG=C.UTF-8 \
      "$bundle/medstation" --self-test --out "$WORK/out.json" > /dev/null 2>&1) || true
    python3 - "$WORK/out.json" "$name" "$round" "$load" <<'EOF' | tee -a "$WORK/lines.txt"
import json, sys
path, name, rnd, load = sys.argv[1:]
try:
    steps = {s["name"]: s for s in json.load(open(path))["steps"]}
except (OSError, ValueError, KeyError):
    print(f"{name}\t{rnd}\t{load}\tfailed"); sys.exit()
study = steps.get("sample_study", {})
total = json.load(open(path))["seconds"]
print(f"{name}\t{rnd}\t{load}\t{study.get('since_launch_s')}\t{steps['window']['seconds']}\t{study.get('seconds')}\t{total}")
EOF
  done
done
python3 - "$WORK/lines.txt" <<'EOF'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, rnd, load, *rest = line.rstrip("\n").split("\t")
    if rest[0] != "failed":
        runs.setdefault(name, []).append({"load": float(load), "since_launch_s": float(rest[0]),
                                          "window_s": float(rest[1]), "sample_study_s": float(rest[2]),
                                          "self_test_s": float(rest[3])})
for name, values in runs.items():
    print(json.dumps({"bundle": name, "median_since_launch_s": statistics.median(v["since_launch_s"] for v in values),
                      "runs": values}))
EOF
