#!/usr/bin/env bash
# Cold start of one or more built bundles, measured alternately in the same run (so the machine's load hits
# each alike): launch -> main window shown with the sample CT, read from `--self-test`'s sample_study step:
#   first_image_s   process start (from /proc) to the sample CT's first slice on screen (issue 22's "sample
#                   study shown"; the other frames still decoding), `first_image_since_launch_s`
#   volume_s        ... to the whole volume loaded (scrolling, MPR, segmentation ready), `since_launch_s`
# Launch "first" uses a new data folder (the store is created and the sample study indexed: the first start
# after an install); launch "again" starts once more on that folder (every later start). A bundle older than
# `--cold-start` runs the whole self-test, first launch only, and reports the volume time alone.
#   bash installer/cold_start.sh ROUNDS BUNDLE_DIR [BUNDLE_DIR ...]    (BUNDLE_DIR holds the `medstation` executable)
# Prints one line per launch (bundle, round, launch, 1-min load average before it, first_image_s, volume_s,
# window s, sample_study s, the self-test's s) and a JSON summary per bundle and launch (medians and each value).
# Each run uses an empty HOME, PATH=/usr/bin:/bin and nothing else inherited, as installer/prove.sh does.
set -euo pipefail
ROUNDS="$1"; shift
WORK="$(mktemp -d /tmp/medstation-coldstart-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
run() {  # run BUNDLE ROUND LAUNCH ARGS...
  local bundle="$1" round="$2" launch="$3"; shift 3
  sync  # the previous launch's writes (a whole self-test writes a knowledge base) are flushed, not left to this one
  local load; load="$(cut -d' ' -f1 /proc/loadavg)"
  rm -f "$WORK/out.json"
  (cd "$WORK" && env -i PATH=/usr/bin:/bin HOME="$WORK/home" MEDSTATION_HOME="$WORK/data" LANG=C.UTF-8 \
    "$bundle/medstation" --self-test --out "$WORK/out.json" "$@" > /dev/null 2>&1) || true
  python3 - "$WORK/out.json" "$bundle" "$round" "$launch" "$load" <<'PY' | tee -a "$WORK/lines.txt"
import json, sys
path, name, rnd, launch, load = sys.argv[1:]
try:
    report = json.load(open(path))
    steps = {s["name"]: s for s in report["steps"]}
    study = steps["sample_study"]
    print(f"{name}\t{rnd}\t{launch}\t{load}\t{study.get('first_image_since_launch_s')}\t{study['since_launch_s']}"
          f"\t{steps['window']['seconds']}\t{study['seconds']}\t{report['seconds']}")
except (OSError, ValueError, KeyError):
    print(f"{name}\t{rnd}\t{launch}\t{load}\tfailed")
PY
}
for round in $(seq "$ROUNDS"); do
  for bundle in "$@"; do
    rm -rf "$WORK/home" "$WORK/data" "$WORK/folder"; mkdir -p "$WORK/home" "$WORK/data"
    if env -i PATH=/usr/bin:/bin HOME="$WORK/home" "$bundle/medstation" self-test --help 2>/dev/null | grep -q -- --cold-start; then
      run "$bundle" "$round" first --cold-start --data-folder "$WORK/folder"
      run "$bundle" "$round" again --cold-start --data-folder "$WORK/folder"
    else
      run "$bundle" "$round" first
    fi
  done
done
python3 - "$WORK/lines.txt" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, rnd, launch, load, *rest = line.rstrip("\n").split("\t")
    if rest[0] == "failed":
        runs.setdefault((name, launch), []).append({"failed": True})
        continue
    first = None if rest[0] == "None" else float(rest[0])
    runs.setdefault((name, launch), []).append({"load": float(load), "first_image_s": first, "volume_s": float(rest[1]),
                                                "window_s": float(rest[2]), "sample_study_s": float(rest[3]),
                                                "self_test_s": float(rest[4])})
for (name, launch), values in runs.items():
    ok = [v for v in values if not v.get("failed")]
    firsts = [v["first_image_s"] for v in ok if v["first_image_s"] is not None]
    print(json.dumps({"bundle": name, "launch": launch, "failed": len(values) - len(ok),
                      "median_first_image_s": statistics.median(firsts) if firsts else None,
                      "median_volume_s": statistics.median(v["volume_s"] for v in ok) if ok else None,
                      "runs": values}))
PY
