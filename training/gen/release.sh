#!/usr/bin/env bash
# Everything after training: export, decoding choice on dev, test metrics, parity fixture, model card.
# usage: training/gen/release.sh training/out/gen/run1
set -euo pipefail
RUN=${1:?run folder}
MODEL=models/medvlm-tiny-gen
PY=/usr/bin/python3
[ "${SKIP_EXPORT:-}" = 1 ] || $PY training/gen/export.py --ckpt "$RUN/best.pt" --out "$MODEL"
declare -A CIDER
for NR in 0 3 4; do
  F="$RUN/eval-dev$([ "$NR" = 0 ] || echo "-nr$NR").json"
  [ -f "$F" ] || $PY training/gen/evaluate.py --ckpt "$RUN/best.pt" --split dev --no-repeat "$NR"
  npx tsx training/gen/metrics.ts "$F" "$RUN/metrics-dev-nr$NR.json" fast > /dev/null
done
# choose no_repeat_ngram_size on dev by CIDEr-D; write it into generation_config.json
$PY - "$RUN" "$MODEL" <<'PY'
import json, sys
run, model = sys.argv[1], sys.argv[2]
cands = {}
for nr in (0, 3, 4):
    m = json.load(open(f"{run}/metrics-dev-nr{nr}.json"))
    cands[str(nr)] = {"ciderD": m["text"]["ciderD"], "rougeL": m["text"]["rougeL"], "words": m["meanWords"], "modalityRight": m["modalityRight"]["value"]}
chosen = int(max(cands, key=lambda k: cands[k]["ciderD"]))
json.dump({"split": "MedPix 2.0 dev (196 images)", "criterion": "CIDEr-D", "candidates": cands, "chosen": chosen}, open(f"{model}/decoding-dev.json", "w"), indent=1)
g = json.load(open(f"{model}/generation_config.json"))
if chosen:
    g["no_repeat_ngram_size"] = chosen
json.dump(g, open(f"{model}/generation_config.json", "w"), indent=1)
print("chosen no_repeat_ngram_size", chosen, cands)
PY
NR=$($PY -c "import json; print(json.load(open('$MODEL/decoding-dev.json'))['chosen'])")
$PY training/gen/evaluate.py --ckpt "$RUN/best.pt" --split test --no-repeat "$NR"
F="$RUN/eval-test$([ "$NR" = 0 ] || echo "-nr$NR").json"
npx tsx training/gen/metrics.ts "$F" "$MODEL/metrics.json" > /dev/null
$PY training/gen/reference.py --ckpt "$RUN/best.pt" --model "$MODEL"
$PY training/gen/card.py --run "$RUN"
