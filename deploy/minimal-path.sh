# Sourced by deploy/fresh-check.sh and deploy/offline-check.sh: the PATH a newcomer's machine has.
#
# minimal_bin DIR makes DIR hold only Python (the interpreter itself, not a version manager's shim: a shell
# script that needs the manager on PATH), make and the few commands the Makefile's recipes call.
minimal_bin() {
    local dir=$1 python tool
    mkdir "$dir"
    python=$("$(command -v python3.11 || command -v python3)" -c 'import sys; print(sys.executable)')
    ln -s "$python" "$dir/python3"
    for tool in make bash sh env touch; do
        ln -s "$(command -v "$tool")" "$dir/$tool"
    done
}
