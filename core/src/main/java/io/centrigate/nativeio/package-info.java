/**
 * Linux socket, epoll and eventfd calls made straight into libc through {@code java.lang.foreign}, the
 * foundation of a native transport under the proxy (issue 14). The calls live in the jar's
 * {@code META-INF/versions/22} because the API is final only in JDK 22; on older runtimes the base classes here
 * report it unsupported. It knows file descriptors and off-heap memory only: no HTTP, no sessions, no pooling.
 */
package io.centrigate.nativeio;
