#!/usr/bin/env bash
# Reports the C files that do not follow the repository's .clang-format, without changing any,
# so a check can run beside people who are editing the tree.
#
#   tools/format-check.sh [-l|--list] [PATH ...]
#
# PATH: files or folders (default: host plugin-api plugins tests sdk; tests/abi/v1_0, the frozen
# ABI 1.0 headers, is left as it shipped). Prints a diff per file that
# differs (what clang-format would change), or with --list only the file names. Exit status: 0
# when every file follows the style, 1 when any differs, 2 for a usage error or no clang-format.
# Environment: CLANG_FORMAT (default clang-format; Debian's clang-format package has it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

list_only=0
paths=()
for a in "$@"; do
    case "$a" in
        -l | --list) list_only=1 ;;
        -h | --help)
            sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        -*)
            echo "format-check: unknown option '$a' (see --help)" >&2
            exit 2
            ;;
        *) paths+=("$a") ;;
    esac
done
[ ${#paths[@]} -gt 0 ] || paths=(host plugin-api plugins tests sdk)

cf=${CLANG_FORMAT:-clang-format}
if ! command -v "$cf" >/dev/null; then
    echo "format-check: $cf not found (apt-get install clang-format)" >&2
    exit 2
fi

# The files git knows of, new ones included, so build folders and fetched models are left out;
# outside a checkout, every .c and .h below the paths.
files() {
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files -z --cached --others --exclude-standard -- "$@" | tr '\0' '\n' |
            grep -E '\.[ch]$' | grep -v '^tests/abi/v1_0/' || true
    else
        find "$@" -type f \( -name '*.c' -o -name '*.h' \) -not -path '*/tests/abi/v1_0/*' | sort
    fi
}

differ=0
checked=0
while IFS= read -r f; do
    [ -f "$f" ] || continue # listed by git, deleted in the working tree
    checked=$((checked + 1))
    if ! "$cf" --style=file "$f" | cmp -s - "$f"; then
        differ=$((differ + 1))
        if [ "$list_only" -eq 1 ]; then
            echo "$f"
        else
            "$cf" --style=file "$f" | diff -u --label "$f" --label "$f (formatted)" "$f" - || true
        fi
    fi
done < <(files "${paths[@]}")

if [ "$differ" -gt 0 ]; then
    echo "format-check: $differ of $checked file(s) do not follow .clang-format" >&2
    exit 1
fi
echo "format-check: all $checked file(s) follow .clang-format" >&2
