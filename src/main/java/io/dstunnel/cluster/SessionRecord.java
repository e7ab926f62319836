// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import java.util.Arrays;
import java.util.List;

/**
 * Who owns a session in the cluster: the owner node, the ownership epoch (a fencing token: every
 * change of owner raises it), and the nodes that hold its copies, in the order they may adopt it.
 * Kept in the cluster's map and in each node's cache as one short string.
 */
record SessionRecord(String sessionId, String owner, long epoch, List<String> backups) {

  String encode() {
    return owner + "|" + epoch + "|" + String.join(",", backups);
  }

  static SessionRecord decode(String sessionId, String text) {
    if (text == null) {
      return null;
    }
    String[] parts = text.split("\\|", -1);
    List<String> backups = parts[2].isEmpty() ? List.of() : Arrays.asList(parts[2].split(","));
    return new SessionRecord(sessionId, parts[0], Long.parseLong(parts[1]), List.copyOf(backups));
  }

  /** The record as published on the directory address: the session id in front. */
  String announce() {
    return sessionId + "|" + encode();
  }

  static SessionRecord fromAnnouncement(String text) {
    int bar = text.indexOf('|');
    return decode(text.substring(0, bar), text.substring(bar + 1));
  }
}
