#!/usr/bin/env bash
# The zoo test: the standard architectures of ../shared/tools/zoo.py (resnet50, mobilenetv2,
# vgg16, a BERT-style encoder; seeded random weights) run on the cpu backend at O0, O2 and O3,
# every output within atol 1e-4 + rtol 1e-3 of ONNX Runtime's on the same input
# (tools/zoo-compare.sh). Skipped (77) where the generator's Python modules (Debian's
# python3-onnx, python3-numpy), node, or ../shared/tools are missing.
#
# Environment (set by tests/CMakeLists.txt): AGLM_HOST, AGLM_SOURCE_DIR; AGLM_ZOO (the model
# cache of zoo.py); AGLM_ZOO_MODELS limits the models ("mobilenetv2 bert4").
set -u
host=${AGLM_HOST:?AGLM_HOST must name aglm-host}
src=${AGLM_SOURCE_DIR:?AGLM_SOURCE_DIR must name the source tree}
tools=$src/../shared/tools
[ -f "$tools/zoo.py" ] || { echo "skipped: no $tools/zoo.py"; exit 77; }
/usr/bin/python3 -c 'import onnx, numpy' 2>/dev/null ||
    { echo "skipped: /usr/bin/python3 lacks onnx or numpy (apt-get install python3-onnx python3-numpy)"; exit 77; }
command -v node >/dev/null || { echo "skipped: no node for ONNX Runtime (ort-run.mjs)"; exit 77; }
bash "$tools/peers.sh" >/dev/null 2>&1 || { echo "skipped: ONNX Runtime could not be installed (peers.sh)"; exit 77; }
AGLM_HOST=$host exec bash "$src/tools/zoo-compare.sh" --levels "O0 O2 O3" \
    --models "${AGLM_ZOO_MODELS:-resnet50 mobilenetv2 vgg16 bert4}"
