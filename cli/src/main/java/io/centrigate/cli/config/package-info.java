/**
 * The settings of {@code centrigate run} from three layers over the built-in defaults: a configuration file
 * ({@link io.centrigate.cli.config.ConfigFile}, {@code key = value} lines), {@code CENTRIGATE_*} environment
 * variables and command-line flags, merged by {@link io.centrigate.cli.config.EffectiveConfig} with the higher
 * layer winning key by key. A key is a {@code run} option's long name without {@code --}
 * ({@link io.centrigate.cli.config.ConfigKeys} reads them off the picocli model, so a new flag is a new key
 * with nothing to add here). Every value of every layer is checked where it was written, and every error names
 * that place: {@code file:line}, the variable, or the flag.
 * <p>
 * This package produces option values; it does not know what they mean. The mapping onto
 * {@link io.centrigate.config.ProxyContext} stays in {@code RunCommand}, the one place that maps flags, and is
 * handed in as a {@link io.centrigate.cli.config.EffectiveConfig.Mapper}.
 */
package io.centrigate.cli.config;
