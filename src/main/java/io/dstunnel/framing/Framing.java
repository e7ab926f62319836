// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.framing;

/** How the proxy finds answer boundaries in a backend's byte stream. */
public enum Framing {
  /** DataSnap DBX messages: filter preamble, then JSON objects with binary blocks skipped. */
  DBX,
  /** Byte counts only: nothing is known of message boundaries. */
  RAW;

  /** Parses the config spelling ("dbx", "raw"). */
  public static Framing parse(String value) {
    return switch (value) {
      case "dbx" -> DBX;
      case "raw" -> RAW;
      default -> throw new IllegalArgumentException("must be \"dbx\" or \"raw\"");
    };
  }
}
