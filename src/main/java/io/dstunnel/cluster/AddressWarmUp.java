// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.session.Addresses;
import io.dstunnel.session.message.TunnelCommand;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Makes the event bus know every member's addresses before it needs them (see {@link #warmUp}).
 * Used on the cluster verticle's event loop, once a second.
 */
final class AddressWarmUp {

  private final Vertx vertx;
  private final ClusterNode node;
  private final Set<String> warmed = new HashSet<>();
  /** Members whose every address answered: they reach this node too (answers come over their own connection). */
  private final Set<String> answered = new HashSet<>();
  private boolean announced;

  AddressWarmUp(ClusterNode node) {
    this.vertx = node.vertx();
    this.node = node;
  }

  /**
   * Reaches every member's addresses, as soon as it is seen, until each has answered: the event bus
   * then has its connection to the member, and knows where its addresses are, before a member's
   * death makes it urgent. A look-up that finds no handler yet (a member seen before its verticles
   * registered) is not remembered, so only an answer proves the address known. This node's own
   * addresses too: an adopter that is also the node a request came to asks its own copy keeper.
   * The announcements' address likewise, once: an adopter announces itself at once, and the first
   * look-up of a published address asks the cluster manager, which waits for a dead or paused
   * member (its removal, about ten seconds) when that address's entry is on it (a node's own
   * addresses do not wait: {@link MergingClusterManager#getRegistrations}).
   * (Delivering to them with {@code localOnly} instead was tried: adoptions then failed.)
   */
  void warmUp() {
    long timeout = node.config().suspectAfterMs();
    for (String member : node.members()) {
      if (warmed.add(member)) {
        // A request with an answer, to the copy keeper and to the inbox ("not here" for no session).
        CopyOp check = CopyOp.of(CopyOp.Kind.CHECK, "", 0, node.id());
        Future<?> keeper = node.ask(member, check, timeout);
        // A member of the version before bundles has no bundle address: known once its keeper answers.
        Future<?> bundles = node.askAll(member, new CopyBundle(List.of(check)), timeout)
            .recover(err -> err instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS
                ? keeper.map(k -> (CopyBundle) null) : Future.failedFuture(err));
        Future<?> inbox = vertx.eventBus().request(Addresses.nodeInbox(member), TunnelCommand.close("-", null),
            ClusterNode.within(timeout));
        Future.all(keeper, bundles, inbox).onComplete(ar -> {
          if (ar.succeeded()) {
            answered.add(member);
          } else {
            warmed.remove(member);  // tried again at the next tick
          }
        });
      }
    }
    warmed.retainAll(node.members());
    answered.retainAll(node.members());
    if (!announced) {
      announced = true;
      vertx.eventBus().publish(Addresses.DIRECTORY, "-|-");  // forgets no session: there is none named "-"
    }
  }

  /**
   * The members whose addresses have not all answered yet. An answer comes back over the member's
   * own connection to this node, which it makes only once its cluster manager knows where this node
   * listens: after a merge that can be seconds after this node sees it (Infinispan's "Not a member
   * of the cluster"), and meanwhile every request this node forwards to it goes unanswered.
   */
  List<String> unanswered() {
    return node.members().stream().filter(m -> !answered.contains(m)).toList();
  }
}
