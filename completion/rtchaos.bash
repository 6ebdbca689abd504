# bash completion for rtchaos(1): subcommands, their flags, shipped scenario
# and suite names, --set paths and --protocol adapters.
#
# Names, paths and adapters come from the rtchaos being completed (`rtchaos
# list`, `rtchaos list keys`: the loader's own key tables, `rtchaos list
# protocols`), so they follow the installed version. Installed as
# share/bash-completion/completions/rtchaos; from a source tree:
#   source completion/rtchaos.bash
# Written against plain bash (no bash-completion helpers needed).

_rtchaos_flags_run='--target --protocol --ca --out --seed --set --shard --start-at --workers --quiet --json
  --metrics-addr --metrics-linger --push-url --short --only --jobs --help'
_rtchaos_flags_validate='--target --protocol --set --help'
_rtchaos_flags_compare='--max-regress --max --min --no-defaults --out'

_rtchaos()
{
    local cur prev cmd exe i
    COMPREPLY=()
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    exe=${COMP_WORDS[0]}
    # bash splits "--set=path" at '=' (COMP_WORDBREAKS): "--set" "=" "path"
    if [[ $prev == = && $COMP_CWORD -ge 2 ]]; then
        prev=${COMP_WORDS[COMP_CWORD-2]}
    elif [[ $cur == = ]]; then
        cur=''
    fi

    cmd=''
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        run|validate|report|compare|merge|scorecard|list|version|help) cmd=${COMP_WORDS[i]}; break ;;
        esac
    done

    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W 'run validate report compare merge scorecard list version help --version --help' -- "$cur"))
        return 0
    fi

    case $prev in
    --set)
        # the paths, each followed by '=' with no space: the value comes next
        COMPREPLY=($(compgen -W "$("$exe" list keys 2>/dev/null)" -S = -- "$cur"))
        compopt -o nospace 2>/dev/null
        return 0 ;;
    --protocol)
        COMPREPLY=($(compgen -W "$("$exe" list protocols 2>/dev/null)" -- "$cur"))
        return 0 ;;
    --out)
        COMPREPLY=($(compgen -d -- "$cur"))
        return 0 ;;
    --ca)
        COMPREPLY=($(compgen -f -- "$cur"))
        return 0 ;;
    --target)
        COMPREPLY=($(compgen -W 'http://127.0.0.1:8080' -- "$cur"))
        return 0 ;;
    --seed|--shard|--start-at|--workers|--only|--jobs|--metrics-addr|--metrics-linger|--push-url|--max-regress|--max|--min)
        return 0 ;;
    esac

    case $cmd in
    run|validate)
        if [[ $cur == -* ]]; then
            local v=_rtchaos_flags_$cmd
            COMPREPLY=($(compgen -W "${!v}" -- "$cur"))
        else
            # shipped names first, then YAML files and folders here
            COMPREPLY=($(compgen -W "$("$exe" list scenarios 2>/dev/null)" -- "$cur")
                       $(compgen -f -X '!*.y*ml' -- "$cur") $(compgen -d -S / -- "$cur"))
            compopt -o nospace 2>/dev/null
            # a finished name or file gets its space back
            if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} != */ ]]; then
                COMPREPLY[0]="${COMPREPLY[0]} "
            fi
        fi ;;
    compare)
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$_rtchaos_flags_compare" -- "$cur"))
        else
            COMPREPLY=($(compgen -f -X '!*.json' -- "$cur") $(compgen -d -- "$cur"))
        fi ;;
    report|merge|scorecard)
        COMPREPLY=($(compgen -d -- "$cur")) ;;
    list)
        COMPREPLY=($(compgen -W 'scenarios keys protocols dirs' -- "$cur")) ;;
    esac
    return 0
}
complete -F _rtchaos rtchaos
