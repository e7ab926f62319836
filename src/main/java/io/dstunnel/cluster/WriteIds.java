// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import java.util.ArrayDeque;
import java.util.List;

/**
 * The ids of a session's last 32 writes applied, oldest first: a forwarded write sent again (its
 * answer lost with a dying node) is known by its id and not applied twice. Kept alike by the owner
 * ({@link Ownership}) and by a copy holder ({@link SessionCopy}), which hands them to its adopter.
 */
final class WriteIds {

  private static final int KEPT = 32;

  private final ArrayDeque<Long> ids = new ArrayDeque<>();

  /** Remembers write {@code id} (0: a write without an id, not remembered), forgetting the oldest past 32. */
  void add(long id) {
    if (id != 0) {
      ids.addLast(id);
      if (ids.size() > KEPT) {
        ids.removeFirst();
      }
    }
  }

  /** Remembers each of {@code applied}, in order. */
  void addAll(List<Long> applied) {
    applied.forEach(this::add);
  }

  boolean contains(long id) {
    return ids.contains(id);
  }

  /** The ids, oldest first. */
  List<Long> toList() {
    return List.copyOf(ids);
  }
}
