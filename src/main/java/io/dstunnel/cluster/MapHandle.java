// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.AsyncMap;

/**
 * A cluster-wide map's handle, asked for once and kept (asked for again only after a failure).
 * vertx-infinispan makes every handle with a cluster-wide "get or create" of the map's cache, on a
 * worker; on a node just back from a pause or a partition that waited more than a minute. Thread-safe.
 */
final class MapHandle {

  private final Vertx vertx;
  private final String name;
  private volatile Future<AsyncMap<String, String>> handle;

  MapHandle(Vertx vertx, String name) {
    this.vertx = vertx;
    this.name = name;
  }

  /** The map: the handle had before, or asked for now. */
  Future<AsyncMap<String, String>> get() {
    Future<AsyncMap<String, String>> h = handle;
    if (h == null || h.failed()) {
      h = vertx.sharedData().getClusterWideMap(name);
      handle = h;
    }
    return h;
  }
}
