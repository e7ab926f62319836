// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.backend;

import io.netty.channel.ConnectTimeoutException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;

/** Says in a few plain words why a connection to a backend failed (for the health history and logs). */
public final class Failures {

  private Failures() {
  }

  public static String describe(Throwable err) {
    if (err instanceof ConnectTimeoutException) {
      return "connect timed out";
    }
    if (err instanceof ConnectException) {
      return "connection refused";
    }
    if (err instanceof NoRouteToHostException) {
      return "no route to host";
    }
    if (err instanceof UnknownHostException) {
      return "unknown host";
    }
    String message = err.getMessage() == null ? err.getClass().getSimpleName() : err.getMessage();
    return message.toLowerCase().contains("reset") ? "connection reset" : message;
  }
}
