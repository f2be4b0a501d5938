# Hosts without more machines, for benchmark scripts (source it; needs root, ip and tc):
# host i is network namespace "$lab-hI" with eth0 at 10.250.0.(i+1)/24, cabled by a veth
# pair to a bridge in "$lab-sw", optionally shaped to a rate both ways with tc tbf. The
# subnet exists only inside these namespaces, so traffic reaches nothing else; lab_down
# removes them all (call it from an EXIT trap). The tests' equivalent is
# Sources/OrreryTestSupport/NetworkLab.swift.

lab="${lab:-orrbench-$$}"

lab_address() { echo "10.250.0.$(($1 + 1))"; }

lab_down() {
  local ns
  for ns in $(ip netns list | awk '{print $1}' | grep "^$lab-" || true); do ip netns del "$ns"; done
}

# lab_up N [RATE]: N hosts on one bridge; RATE (tc syntax, e.g. 1gbit) shapes every cable.
lab_up() {
  local n=$1 rate=${2:-} burst i ns
  case "$rate" in *10gbit) burst=4mb ;; *) burst=1mb ;; esac
  ip netns add "$lab-sw"
  ip -n "$lab-sw" link add br0 type bridge
  ip -n "$lab-sw" link set br0 up
  for i in $(seq 0 $((n - 1))); do
    ns="$lab-h$i"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$ns" link add eth0 type veth peer name "p$i" netns "$lab-sw"
    ip -n "$ns" addr add "$(lab_address "$i")/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$lab-sw" link set "p$i" master br0
    ip -n "$lab-sw" link set "p$i" up
    if [ -n "$rate" ]; then
      tc -n "$ns" qdisc replace dev eth0 root tbf rate "$rate" burst "$burst" latency 50ms
      tc -n "$lab-sw" qdisc replace dev "p$i" root tbf rate "$rate" burst "$burst" latency 50ms
    fi
  done
}

# lab_exec I COMMAND...: runs COMMAND on host I.
lab_exec() {
  local host=$1; shift
  ip netns exec "$lab-h$host" "$@"
}
