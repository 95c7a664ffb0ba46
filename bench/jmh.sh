#!/usr/bin/env bash
# Runs the JMH benchmarks of bench/ briefly, with the GC profiler, and prints the results.
#
#   bench/jmh.sh                          # all benchmarks, short run (-f 1 -wi 2 -w 1s -i 3 -r 1s -prof gc)
#   bench/jmh.sh HeadParser               # a regex selects benchmarks, as with JMH itself
#   bench/jmh.sh -f 3 -wi 5 -i 10         # any JMH option; one given here replaces the default of the same name
#
# Environment:
#   JMH_BUILD=auto|always|never   build the jar when it is missing or older than the sources (auto, default)
#   MVN_FLAGS="-o"                extra Maven flags for the build (e.g. offline)
#   JAVA=/path/to/java            the java to run (default: java on PATH)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
jar="bench/target/benchmarks.jar"
java_cmd="${JAVA:-java}"

build="${JMH_BUILD:-auto}"
if [[ "$build" == "auto" ]]; then
    newer="$(find pom.xml core/pom.xml bench/pom.xml core/src/main bench/src/main -newer "$jar" -print -quit \
        2>/dev/null || true)"
    if [[ ! -f "$jar" || -n "$newer" ]]; then
        build=always
    fi
fi
if [[ "$build" == "always" ]]; then
    echo "building $jar ..." >&2
    # Only bench and what it needs (core): cli is not needed to benchmark.
    # shellcheck disable=SC2086
    mvn -B -q -DskipTests ${MVN_FLAGS:-} -pl bench -am package
fi
[[ -f "$jar" ]] || { echo "no $jar (JMH_BUILD=$build)" >&2; exit 1; }

# Agrona 2.x needs jdk.internal.misc exported to it; JDK 24+ also wants sun.misc.Unsafe memory access allowed
# explicitly (JEP 471/498) or it warns, and later refuses.
spec="$("$java_cmd" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')"
spec="${spec#1.}"
host_opts=()
fork_opts="--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"
# JDK 22+: the epoll transport (core's META-INF/versions/22) links libc from the class path, which needs native
# access enabled or the JDK warns (and a later one refuses).
if [[ "${spec%%.*}" -ge 22 ]]; then
    fork_opts+=" --enable-native-access=ALL-UNNAMED"
fi
if [[ "${spec%%.*}" -ge 24 ]]; then
    host_opts+=(--sun-misc-unsafe-memory-access=allow)
    fork_opts+=" --sun-misc-unsafe-memory-access=allow"
fi

# JMH refuses an option given twice, so a default goes in only when the caller did not give that option.
user=()
given=" "
while [[ $# -gt 0 ]]; do
    case "$1" in
        -jvmArgsAppend)
            # Ours are needed too: merge instead of letting the caller's replace them.
            fork_opts+=" ${2:?-jvmArgsAppend needs a value}"
            shift 2
            continue
            ;;
        -prof)
            [[ "${2:-}" == gc* ]] && given+="-prof:gc "
            ;;
        -*)
            given+="$1 "
            ;;
    esac
    user+=("$1")
    shift
done

args=()
add_default() {
    local option="$1"
    shift
    [[ "$given" == *" $option "* ]] || args+=("$option" "$@")
}
add_default -f 1
add_default -wi 2
add_default -w 1s
add_default -i 3
add_default -r 1s
add_default -foe true
[[ "$given" == *" -prof:gc "* ]] || args+=(-prof gc)
if [[ "$given" != *" -rf "* && "$given" != *" -rff "* ]]; then
    args+=(-rf json -rff bench/target/jmh-result.json)
fi
args+=(-jvmArgsAppend "$fork_opts")

{ printf '%q ' "$java_cmd" ${host_opts[@]+"${host_opts[@]}"} -jar "$jar" "${args[@]}" ${user[@]+"${user[@]}"}; echo; } >&2
exec "$java_cmd" ${host_opts[@]+"${host_opts[@]}"} -jar "$jar" "${args[@]}" ${user[@]+"${user[@]}"}
