// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The steps a session verticle's sessions send their copy holders, bundled per holder (group
 * commit, as JGroups' bundlers do): the steps asked of one holder while the event loop serves one
 * round of events go out together, in one message, when that round is done. Nothing waits for a
 * bundle to fill: a step asked alone goes alone (a bundle of one).
 *
 * <p>Every step for a holder goes to one address ({@code Addresses.copyBundles}): the event bus
 * keeps the order of the messages to an address, not across addresses, and a step told (nothing
 * waits for its answer) may be followed at once by the session's next step. A session otherwise
 * has one step out at a time ({@link Ownership#copies}). A holder without the bundle address (a
 * member of the version before bundles, during a rolling upgrade, or one whose address is not known
 * here yet) gets each step in a message of its own at its copy keeper's address, for
 * {@link #ONE_BY_ONE_MS}, and until none of them is still out. Used on the session verticle's event
 * loop only.
 */
final class CopyBundler {

  /** How long a holder found without the bundle address gets its steps one a message. */
  static final long ONE_BY_ONE_MS = 10_000;

  private final ClusterNode node;
  private final Map<String, List<Step>> waiting = new HashMap<>();
  /** The session verticle's context, where every step is taken and sent. */
  private Context home;
  /** Holders found without the bundle address. */
  private final Map<String, OneByOne> oneByOne = new HashMap<>();

  /** Since when a holder gets its steps one a message, and how many of them are still out. */
  private static final class OneByOne {
    long since = System.nanoTime();
    int out;
  }

  /** A step and its answer. */
  private record Step(CopyOp op, Promise<CopyOp> answer) {
  }

  CopyBundler(ClusterNode node) {
    this.node = node;
  }

  /** Asks holder {@code nodeId}'s copy keeper, within {@code cluster.suspectAfterMs} (see {@link ClusterNode#ask}). */
  Future<CopyOp> ask(String nodeId, CopyOp op) {
    Promise<CopyOp> answer = Promise.promise();
    Context here = node.vertx().getOrCreateContext();
    if (home == null) {
      home = here;  // the session verticle's, whose sessions make the first copies
    }
    if (here != home) {
      // Never from another thread (the waiting lists are this event loop's): taken there, in turn.
      home.runOnContext(v -> ask(nodeId, op).onComplete(answer));
      return answer.future();
    }
    List<Step> bundle = waiting.get(nodeId);
    if (bundle == null) {
      bundle = new ArrayList<>(4);
      waiting.put(nodeId, bundle);
      // A task after this round of the event loop's events: what they ask of the holder goes with it.
      home.runOnContext(v -> flush(nodeId));
    }
    bundle.add(new Step(op, answer));
    return answer.future();
  }

  /**
   * Tells holder {@code nodeId}'s copy keeper {@code op}, in order with the steps asked before and
   * after it: the caller need not wait for it. Fails if it may not have arrived.
   */
  Future<Void> tell(String nodeId, CopyOp op) {
    return ask(nodeId, op).mapEmpty();
  }

  private void flush(String nodeId) {
    List<Step> bundle = waiting.remove(nodeId);
    OneByOne alone = oneByOne.get(nodeId);
    if (alone != null && (alone.out > 0 || System.nanoTime() - alone.since < ONE_BY_ONE_MS * 1_000_000)) {
      node.metrics().copySent(bundle.size(), bundle.size());
      oneByOne(nodeId, alone, bundle);
      return;
    }
    oneByOne.remove(nodeId);
    List<CopyOp> ops = new ArrayList<>(bundle.size());
    bundle.forEach(s -> ops.add(s.op()));
    node.metrics().copySent(ops.size(), 1);
    node.askAll(nodeId, new CopyBundle(ops), node.config().suspectAfterMs()).onComplete(ar -> {
      if (ar.succeeded() && ar.result().ops().size() == bundle.size()) {
        for (int i = 0; i < bundle.size(); i++) {
          bundle.get(i).answer().complete(ar.result().ops().get(i));
        }
      } else if (ar.failed() && ar.cause() instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
        node.metrics().copySent(0, bundle.size());
        oneByOne(nodeId, oneByOne.computeIfAbsent(nodeId, k -> new OneByOne()), bundle);
      } else {
        Throwable err = ar.failed() ? ar.cause() : new IllegalStateException("node " + nodeId + " answered "
            + ar.result().ops().size() + " of " + bundle.size() + " bundled steps");
        bundle.forEach(s -> s.answer().fail(err));
      }
    });
  }

  /** Each step in a message of its own, to the holder's copy keeper, in order. */
  private void oneByOne(String nodeId, OneByOne alone, List<Step> steps) {
    for (Step s : steps) {
      alone.out++;
      node.ask(nodeId, s.op(), node.config().suspectAfterMs()).onComplete(ar -> {
        alone.out--;
        s.answer().handle(ar);
      });
    }
  }
}
