// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.session.Addresses;
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
 * bundle to fill: a step asked alone goes alone, as {@link ClusterNode#ask} sends it. A session has
 * one step out at a time ({@link Ownership#copies}), so a bundle holds steps of different
 * sessions, and each session's steps still reach the holder in order. Used on the session
 * verticle's event loop only.
 */
final class CopyBundler {

  private final ClusterNode node;
  private final Map<String, List<Step>> waiting = new HashMap<>();

  /** A step and its answer ({@code null}: none awaited). */
  private record Step(CopyOp op, Promise<CopyOp> answer) {
  }

  CopyBundler(ClusterNode node) {
    this.node = node;
  }

  /** Asks holder {@code nodeId}'s copy keeper, within {@code cluster.suspectAfterMs} (see {@link ClusterNode#ask}). */
  Future<CopyOp> ask(String nodeId, CopyOp op) {
    Promise<CopyOp> answer = Promise.promise();
    add(nodeId, new Step(op, answer));
    return answer.future();
  }

  /** Tells holder {@code nodeId}'s copy keeper, no answer awaited; in order with the steps asked before it. */
  void tell(String nodeId, CopyOp op) {
    add(nodeId, new Step(op, null));
  }

  private void add(String nodeId, Step step) {
    List<Step> bundle = waiting.get(nodeId);
    if (bundle == null) {
      bundle = new ArrayList<>(4);
      waiting.put(nodeId, bundle);
      Context context = node.vertx().getOrCreateContext();
      // A task after this round of the event loop's events: what they ask of the holder goes with it.
      context.runOnContext(v -> flush(nodeId));
    }
    bundle.add(step);
  }

  private void flush(String nodeId) {
    List<Step> bundle = waiting.remove(nodeId);
    if (bundle.size() == 1) {
      node.metrics().copySent(1, 1);
      alone(nodeId, bundle.get(0));
      return;
    }
    List<CopyOp> ops = new ArrayList<>(bundle.size());
    bundle.forEach(s -> ops.add(s.op()));
    node.metrics().copySent(ops.size(), 1);
    node.askAll(nodeId, new CopyBundle(ops), node.config().suspectAfterMs()).onComplete(ar -> {
      if (ar.succeeded() && ar.result().ops().size() == bundle.size()) {
        for (int i = 0; i < bundle.size(); i++) {
          complete(bundle.get(i), Future.succeededFuture(ar.result().ops().get(i)));
        }
      } else if (ar.failed() && ar.cause() instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
        // A member that takes no bundles (a version before them, during a rolling upgrade), or one
        // whose bundle address is not known here yet: one message a step, as before.
        node.metrics().copySent(0, bundle.size());
        bundle.forEach(s -> alone(nodeId, s));
      } else {
        Future<CopyOp> failed = Future.failedFuture(ar.failed() ? ar.cause()
            : new IllegalStateException("node " + nodeId + " answered " + ar.result().ops().size() + " of "
                + bundle.size() + " bundled steps"));
        bundle.forEach(s -> complete(s, failed));
      }
    });
  }

  private void alone(String nodeId, Step step) {
    if (step.answer() == null) {
      node.vertx().eventBus().send(Addresses.copies(nodeId), step.op());
    } else {
      node.ask(nodeId, step.op(), node.config().suspectAfterMs()).onComplete(step.answer());
    }
  }

  private static void complete(Step step, Future<CopyOp> answer) {
    if (step.answer() != null) {
      answer.onComplete(step.answer());
    }
  }
}
