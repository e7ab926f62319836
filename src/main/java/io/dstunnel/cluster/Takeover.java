// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.session.Addresses;
import io.dstunnel.session.message.SessionFailure;
import io.dstunnel.session.message.TunnelCommand;
import io.dstunnel.session.message.TunnelReply;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The forwarding node's side of an adoption: a request that found a session's owner silent (or
 * found no record of the session) asks the session's copy holders to take it over, then goes on
 * to whoever owns it now, waits out a split, or ends as 503 or 404. Going on is the
 * {@link SessionRouter}'s forwarding, called back through {@link Forward}; the copy holder's side
 * is {@link Adoptions}.
 */
final class Takeover {

  private static final Logger LOG = LoggerFactory.getLogger(Takeover.class);

  /** The router's forwarding, asked again after a take-over. */
  @FunctionalInterface
  interface Forward {
    /**
     * Forwards {@code cmd} to its owner: {@code attempt} so far, {@code fresh} to read the
     * cluster's map rather than this node's cache, {@code waits} (half seconds) for a split so far.
     */
    Future<TunnelReply> forward(TunnelCommand cmd, int attempt, boolean fresh, int waits);
  }

  private final ClusterNode node;
  private final Forward router;

  Takeover(ClusterNode node, Forward router) {
    this.node = node;
    this.router = router;
  }

  /**
   * A session neither this node nor the cluster's map has a record of: unknown (404), unless this
   * node holds a copy of it, or another member knows it.
   * <ul>
   *   <li>The record can be lost while the copy is not: the cluster manager keeps the map's entries
   *       on members, and a member that dies before the map's backups of its entries are made
   *       elsewhere (a member that just joined, a death during a rebalance) takes those entries
   *       with it. The copy knows the owner and its epoch: the request goes on from there, to the
   *       owner, or to the adoption by this node when the owner is gone.
   *   <li>A node back from a pause or a partition missed the announcements made while the others
   *       did not count it, and its map, still merging, may not give those records yet: the
   *       members that heard them say where the session lives ({@link #askOthers}), when this
   *       request found no record at all ({@code attempt} 0).
   * </ul>
   */
  Future<TunnelReply> fromCopyHere(TunnelCommand cmd, boolean held, int attempt, int waits) {
    String sid = cmd.sessionId();
    boolean read = cmd.kind() == TunnelCommand.Kind.READ;
    CopyOp ask = CopyOp.adopt(sid, 0, read, held, node.id(), cmd.readId());
    return node.ask(node.id(), ask, node.config().suspectAfterMs() + 30_000).otherwise((CopyOp) null)
        .compose(answer -> {
          if (answer != null && answer.kind() == CopyOp.Kind.MOVED) {
            return Future.succeededFuture(new SessionRecord(sid, answer.owner(), answer.epoch(),
                answer.owner().equals(node.id()) ? List.of() : List.of(node.id())));
          }
          // Asked only when this node found no record at all: a record that proved stale (the
          // session closed, its owner said it is not there) is no reason to ask everyone.
          return attempt == 0 ? askOthers(sid) : Future.<SessionRecord>succeededFuture(null);
        })
        .compose(r -> {
          if (r == null) {
            return SessionRouter.expired(node, cmd, null);
          }
          node.directory().learn(r);
          return router.forward(cmd, attempt + 1, false, waits);
        });
  }

  /**
   * Where the other members say session {@code sid} lives: the first record one of them answers
   * within {@code suspectAfterMs}, or null once all have answered that they know no such session
   * (or not answered; a member of a version before the question fails it). An older record than
   * the owner's is put right by the forward: its owner names the newer one; a record of a session
   * since closed, kept by a member that missed the close, ends in 404 after one forward.
   */
  private Future<SessionRecord> askOthers(String sid) {
    List<Future<SessionRecord>> answers = node.members().stream().filter(member -> !member.equals(node.id()))
        .map(member -> node.<CopyOp>request(member, Addresses.whereIs(member), CopyOp.where(sid), node.suspect())
            .compose(a -> a.kind() == CopyOp.Kind.MOVED ? Future.succeededFuture(a.record())
                : Future.<SessionRecord>failedFuture("not known there")))
        .toList();
    return Future.any(answers).transform(done -> {
      SessionRecord r = answers.stream().filter(Future::succeeded).map(Future::result).findFirst().orElse(null);
      if (r != null) {
        LOG.info("node {}: session {} was in neither the map nor this node's directory: "
            + "the members say node {} owns it", node.id(), sid, r.owner());
      }
      return Future.succeededFuture(r);
    });
  }

  /**
   * {@code r}'s owner did not answer a request relayed to it (dead, paused, cut off): its copy
   * holders are asked to take the session over, and the request goes on from their answer. A
   * cached record may name copy holders that are gone or were replaced: the map's record is asked
   * before the session is given up. {@code held}: the request is a read its owner held before.
   */
  Future<TunnelReply> ofSilentOwner(SessionRecord r, TunnelCommand cmd, boolean held, int attempt, boolean fresh,
                                    int waits) {
    return adopt(r, cmd, held).compose(owner -> afterAdopt(cmd, r, owner, attempt, fresh, waits));
  }

  /**
   * What follows the copy holders' answer ({@code owner}: who owns the session now, or null). A
   * new owner is forwarded to. The old owner still heard by a holder, or no answer while the old
   * owner's process still runs outside this node's view, means this node is cut off from it (a
   * split of the cluster): it waits for the two sides to merge rather than give up.
   */
  private Future<TunnelReply> afterAdopt(TunnelCommand cmd, SessionRecord r, String owner, int attempt, boolean fresh,
                                         int waits) {
    if (owner != null && !owner.equals(r.owner())) {
      return router.forward(cmd, attempt + 1, false, waits);
    }
    // An owner no holder took the session from, whose process may still run (it does not refuse):
    // this node may be the one cut off, and the session is not ended for it.
    Future<Boolean> cutOff = owner != null ? Future.succeededFuture(true)
        : node.refuses(r.owner()).map(dead -> !dead);
    return cutOff.compose(apart -> {
      if (apart && waits < node.timings().splitWaitMs() / 500) {
        return node.vertx().timer(500).compose(v -> router.forward(cmd, attempt, false, waits + 1));
      }
      if (apart) {
        // Still cut off from the owner, whose copy holders keep the session: refused, not ended.
        node.metrics().cutOff();
        LOG.warn("node {}: {} of session {} refused: its owner {} is out of reach and no copy holder took it over",
            node.id(), cmd.kind(), cmd.sessionId(), r.owner());
        return Future.succeededFuture(TunnelReply.failed(SessionFailure.CUT_OFF, "The session's proxy node is out "
            + "of reach of this one (a network partition): try again"));
      }
      if (owner == null && fresh) {
        return SessionRouter.expired(node, cmd, "its owner " + r.owner() + " is gone and no copy holder took it over");
      }
      return router.forward(cmd, attempt + 1, owner == null, waits);
    });
  }

  /**
   * Asks the copy holders, in order, to take the session over: the owner once one has answered
   * (itself, or the owner it knows still answers), or null.
   */
  private Future<String> adopt(SessionRecord r, TunnelCommand cmd, boolean held) {
    CopyOp ask = CopyOp.adopt(r.sessionId(), r.epoch(), cmd.kind() == TunnelCommand.Kind.READ, held, node.id(),
        cmd.readId());
    // A node holding a copy itself adopts first: no hop, no wait on another holder that may be
    // dead or paused (two holders adopting at once is settled by their claims).
    List<String> holders = new ArrayList<>(r.backups());
    if (holders.remove(node.id())) {
      holders.add(0, node.id());
    }
    Future<String> chain = Future.succeededFuture(null);
    for (String holder : holders) {
      chain = chain.compose(done -> done != null ? Future.succeededFuture(done)
          : node.ask(holder, ask, node.config().suspectAfterMs() + 30_000)
              .map(answer -> {
                if (answer.kind() != CopyOp.Kind.MOVED) {
                  return (String) null;
                }
                // The adopter names its own copy holders (its announcement); the old ones are not kept.
                node.directory().learn(new SessionRecord(r.sessionId(), answer.owner(), answer.epoch(),
                    answer.owner().equals(r.owner()) ? r.backups() : List.of()));
                return answer.owner();
              })
              .otherwise((String) null));
    }
    return chain;
  }
}
