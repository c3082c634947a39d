# Shared by fetch_corpus.sh and fetch_test_sets.sh (sourced, not run): the training corpus's
# packages, so the test sets can refuse them, and one way of downloading a .deb into $DEBS.
# The sourcing script defines DEBS, say and die.

TRAINING_PACKAGES=(wesnoth-1.16-music warzone2100-music nexuiz-music marsshooter-data singularity-music)

download() {
    local pkg=$1
    if compgen -G "$DEBS/${pkg}_*.deb" >/dev/null; then
        say "$pkg: already downloaded"
        return
    fi
    say "$pkg: downloading"
    (cd "$DEBS" && apt-get download "$pkg") || die "apt-get download $pkg failed; check the network and apt sources."
}
