#!/bin/sh
# The bundled example's entrypoint: prints a greeting and the image's build facts.
echo "hello from vouch's example image"
cat /data/facts.json
