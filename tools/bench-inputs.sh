# Sourced by the benchmark scripts (bench-models.sh, bench-ab.sh): for each real model of
# tests/real/fetch.sh, its file (path), its input's name (input) and its benchmark shape
# (shape), in the associative arrays the caller reads. Needs $root (the repository).
declare -A path input shape
while read -r name file; do path[$name]=$file; done < <(bash "$root/tests/real/fetch.sh")
input[wakeword]=onnx::Flatten_0 shape[wakeword]=1x25x96
input[ocr-cls]=x shape[ocr-cls]=1x3x48x192
input[ocr-rec]=x shape[ocr-rec]=1x3x48x320
input[ocr-det]=x shape[ocr-det]=1x3x640x640
