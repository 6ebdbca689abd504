#!/usr/bin/env bash
# install_completion: completion/rtchaos.bash, sourced into bash and called as
# bash calls it (COMP_WORDS, COMP_CWORD), completes subcommands, every flag
# `rtchaos --help` shows, shipped scenario and suite names, --set paths (from
# `rtchaos list keys`, the loader's key tables) and --protocol adapters.
set -euo pipefail
cd "$(dirname "$0")/../.."
RTCHAOS=${RTCHAOS_BIN:-$PWD/bin}/rtchaos
# the tree's scenarios, also for a binary with none above it (build/asan/bin)
export RTCHAOS_DATADIR=$PWD
# shellcheck source=/dev/null
source completion/rtchaos.bash
fails=0

# complete WORD... : COMPREPLY for the last word, one per line, trailing space cut
complete_words() {
    COMP_WORDS=("$RTCHAOS" "$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="${COMP_WORDS[*]}"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _rtchaos
    printf '%s\n' "${COMPREPLY[@]%% }"
}

expect() { # expect DESCRIPTION WANTED-LINE WORD...
    local what=$1 want=$2 got; shift 2
    got=$(complete_words "$@")  # whole, not piped into grep -q (SIGPIPE under pipefail)
    if ! grep -qxF -- "$want" <<<"$got"; then
        echo "FAIL: $what: completing '$*' did not offer '$want' (got: $(tr '\n' ' ' <<<"$got"))"
        fails=$((fails + 1))
    fi
}

[ "$(complete -p rtchaos)" = "complete -F _rtchaos rtchaos" ] || { echo "FAIL: complete -F not registered"; fails=$((fails+1)); }

# every subcommand of --help
for c in $("$RTCHAOS" --help | sed -n 's/^  rtchaos \([a-z][a-z]*\).*/\1/p' | sort -u); do
    expect "subcommand" "$c" ""
done
# every flag of --help, offered after the subcommand that takes it
help_flags=$("$RTCHAOS" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
[ "$(echo "$help_flags" | wc -l)" -ge 10 ] || { echo "FAIL: too few flags in --help: $help_flags"; exit 1; }
offered=$( (complete_words run --; complete_words validate --; complete_words compare --; complete_words --) | sort -u)
for f in $help_flags; do
    grep -qxF -- "$f" <<<"$offered" || { echo "FAIL: $f (in rtchaos --help) is not completed"; fails=$((fails+1)); }
done

# shipped names: all of them, and by prefix
[ "$("$RTCHAOS" list | wc -l)" -ge 10 ] || { echo "FAIL: rtchaos list found no shipped scenarios"; exit 1; }
for n in $("$RTCHAOS" list); do expect "shipped name" "$n" run ""; done
expect "scenario by prefix" smoke run smo
expect "suite by prefix" suites/rfp validate suites/r
[ "$(complete_words run smo)" = smoke ] || { echo "FAIL: 'run smo' is not exactly smoke"; fails=$((fails+1)); }

# --set paths, with '=' and as bash splits --set=…
expect "--set path" "clients.0.count=" run smoke --set clients.0.co
expect "--set path" "duration=" run smoke --set dur
expect "--set=path" "warmup=" run smoke --set = war
expect "--set nested" "clients.0.reconnect.max_attempts=" validate smoke --set clients.0.reconnect.max_
nkeys=$("$RTCHAOS" list keys | wc -l)
[ "$(complete_words run smoke --set "" | wc -l)" -eq "$nkeys" ] || { echo "FAIL: --set does not offer all $nkeys paths"; fails=$((fails+1)); }
# --protocol, list, compare
for p in $("$RTCHAOS" list protocols); do expect "--protocol" "$p" run smoke --target http://127.0.0.1:1 --protocol ""; done
expect "list" keys list ""
expect "compare flag" --max-regress compare base.json new.json --max-r
# a word that matches nothing completes to nothing
[ -z "$(complete_words run no-such-prefix-xyz)" ] || { echo "FAIL: a prefix of nothing offered something"; fails=$((fails+1)); }

[ $fails -eq 0 ] || { echo "install_completion: $fails failure(s)"; exit 1; }
echo "install_completion: ok ($(echo "$help_flags" | wc -l) flags, $nkeys --set paths)"
