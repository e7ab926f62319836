// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.call;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which server method each of a session's command handles runs, learned from each
 * {@code prepare}'s answer, and every handle learned in order as "handle=method": what a cluster
 * copy is told, a few at a time, so that its adopter knows them before its log is recorded again.
 */
final class Handles {

  private final Map<Integer, String> methods = new HashMap<>();
  /** Every handle learned, in order, as "handle=method" (what a cluster copy is told, a few at a time). */
  private final List<String> learned = new ArrayList<>();

  /** The method {@code handle} runs, or null. */
  String method(int handle) {
    return methods.get(handle);
  }

  /** A prepare's answer gave {@code handle} to {@code method}. */
  void learn(int handle, String method) {
    methods.put(handle, method);
    learned.add(handle + "=" + method);
  }

  /** How many handles have been learned so far (see {@link #since}). */
  int count() {
    return learned.size();
  }

  /** The handles learned after the first {@code from}, as "handle=method". */
  List<String> since(int from) {
    return List.copyOf(learned.subList(Math.min(from, learned.size()), learned.size()));
  }

  /** Handles learned elsewhere (a copy's old owner), as "handle=method". */
  void know(List<String> known) {
    for (String h : known) {
      int eq = h.indexOf('=');
      if (eq > 0) {
        methods.put(Integer.parseInt(h.substring(0, eq)), h.substring(eq + 1));
        learned.add(h);
      }
    }
  }
}
