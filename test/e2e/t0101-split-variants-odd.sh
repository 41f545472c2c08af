#!/bin/sh
# The other half of t0100's capture variants.
# test-slow
VARIANTS_HALF=1
. "$(dirname "$0")/t0100-split-variants.sh"
