/**
 * The scale run (bench/scale.sh): more than 65,536 concurrent WebSocket tunnels through several centrigate
 * processes sharing one port with SO_REUSEPORT. {@link io.centrigate.bench.scale.ScaleClient} is one load-generator
 * process (one source address, paced opens, a verification echo per tunnel); {@link io.centrigate.bench.scale.ScaleReport}
 * writes the summary. Design and the 4-tuple arithmetic: bench/scale/README.md.
 */
package io.centrigate.bench.scale;
