// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.support;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;

/** One tunnel read, returning exactly the bytes of that HTTP answer. */
public final class RawReads {

  private RawReads() {
  }

  public static Buffer readOnce(Vertx vertx, int port, String sid, int max) {
    RawHttp.Answer a = new RawHttp(vertx, port).get("/datasnap/tunnel?dss=" + sid + "&c=" + max,
        "Authorization", RawHttp.basic("admin", "admin"));
    if (a.status() != 200) {
      throw new AssertionError("read answered " + a.status() + " " + a.reason());
    }
    return a.body();
  }
}
