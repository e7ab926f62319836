// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.session.Addresses;
import io.dstunnel.session.message.SessionFailure;
import io.dstunnel.session.message.TunnelCommand;
import io.dstunnel.session.message.TunnelReply;
import io.vertx.core.Future;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
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
   * node holds a copy of it, or another member knows it, or may know it.
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
   *   <li>A member this node cannot reach may own the session (opened there during a partition,
   *       or while this node was paused and alone on waking): it is not ended for that, but
   *       refused with 503, until the member answers again, is known dead, or has been out of the
   *       view longer than the group may take to let a node back, while it cannot be reached
   *       ({@link #outOfReach}).
   * </ul>
   */
  Future<TunnelReply> fromCopyHere(TunnelCommand cmd, boolean held, int attempt, int waits) {
    String sid = cmd.sessionId();
    boolean read = cmd.kind() == TunnelCommand.Kind.READ;
    CopyOp ask = CopyOp.adopt(sid, 0, read, held, node.id(), cmd.readId());
    return node.ask(node.id(), ask, node.config().suspectAfterMs() + 30_000).otherwise((CopyOp) null)
        .compose(answer -> {
          if (answer != null && answer.kind() == CopyOp.Kind.MOVED) {
            return Future.succeededFuture(Whereabouts.at(new SessionRecord(sid, answer.owner(), answer.epoch(),
                answer.owner().equals(node.id()) ? List.of() : List.of(node.id()))));
          }
          // Asked only when this node found no record at all: a record that proved stale (the
          // session closed, its owner said it is not there) is no reason to ask everyone.
          return attempt == 0 ? askOthers(sid) : Future.succeededFuture(Whereabouts.NOWHERE);
        })
        .compose(w -> {
          if (w.record() != null) {
            node.directory().learn(w.record());
            return router.forward(cmd, attempt + 1, false, waits);
          }
          if (attempt > 0) {
            return SessionRouter.expired(node, cmd, null);
          }
          return outOfReach(w.silent()).compose(apart -> apart.isEmpty() ? SessionRouter.expired(node, cmd, null)
              : cutOff(cmd, apart));
        });
  }

  /**
   * What the other members say of session {@code sid}: the first record one of them answers
   * within {@code suspectAfterMs}, else the members that did not answer (neither "no such session"
   * nor a failure that says it knows nothing, see {@link #knowsNothing}). An older record than the
   * owner's is put right by the forward: its owner names the newer one; a record of a session since
   * closed, kept by a member that missed the close, ends in 404 after one forward.
   */
  private Future<Whereabouts> askOthers(String sid) {
    List<String> others = node.members().stream().filter(member -> !member.equals(node.id())).toList();
    List<Future<CopyOp>> answers = others.stream()
        .map(member -> node.<CopyOp>request(member, Addresses.whereIs(member), CopyOp.where(sid), node.suspect()))
        .toList();
    List<Future<SessionRecord>> records = answers.stream().map(a -> a.compose(op -> op.kind() == CopyOp.Kind.MOVED
        ? Future.succeededFuture(op.record()) : Future.<SessionRecord>failedFuture("not known there"))).toList();
    return Future.any(records).transform(done -> {
      // Any one record, or every answer in (with no member to ask, Future.any succeeds at once).
      SessionRecord r = records.stream().filter(Future::succeeded).map(Future::result).findFirst().orElse(null);
      if (r != null) {
        LOG.info("node {}: session {} was in neither the map nor this node's directory: "
            + "the members say node {} owns it", node.id(), sid, r.owner());
        return Future.succeededFuture(Whereabouts.at(r));
      }
      List<String> silent = new ArrayList<>();
      for (int i = 0; i < others.size(); i++) {
        if (answers.get(i).failed() && !knowsNothing(others.get(i), answers.get(i).cause())) {
          silent.add(others.get(i));
        }
      }
      return Future.succeededFuture(new Whereabouts(null, silent));
    });
  }

  /**
   * Whether member {@code member}'s failure to answer the question says it knows nothing of the
   * session: its handler failed, or it has none, being of a version before the question, or new
   * (a member that just joined owns nothing yet). A member back in this node's view (a merge) for
   * less than {@link ClusterTimings#rejoinWaitMs} seems to have none while the cluster manager's
   * subscriptions merge: it has not answered yet.
   */
  private boolean knowsNothing(String member, Throwable failure) {
    if (!(failure instanceof ReplyException e)) {
      return false;
    }
    long since = node.joinedAt(member);
    boolean merging = since != 0 && node.leftAt(member) != 0
        && System.nanoTime() - since < node.timings().rejoinWaitMs() * 1_000_000L;
    return e.failureType() == ReplyFailure.RECIPIENT_FAILURE || e.failureType() == ReplyFailure.NO_HANDLERS && !merging;
  }

  /**
   * The members that may own a session no member this node reaches knows, their process still
   * running: those that did not answer ({@code silent}) or left this node's view within
   * {@link ClusterTimings#rejoinWaitMs} (a node back from a pause that woke alone merges within
   * it), unless their port refuses (a killed node's does at once, and a restarted node's address
   * taken by a new member counts as refusing); and those that left within a record's life
   * ({@link ClusterTimings#forgetAfterMs}) whose port answers with the cluster's key again (a
   * partition healed, the two sides not merged yet).
   */
  private Future<List<String>> outOfReach(List<String> silent) {
    ClusterTimings timings = node.timings();
    Set<String> recent = new LinkedHashSet<>(silent);
    recent.addAll(node.leftWithin(timings.rejoinWaitMs()));
    Set<String> suspects = new LinkedHashSet<>(recent);
    suspects.addAll(node.leftWithin(timings.forgetAfterMs()));
    if (suspects.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    // A member gone longer is probed afresh: a probe from before a heal must not end the session.
    long asked = System.nanoTime();
    List<Future<PortProbe.State>> states = suspects.stream()
        .map(m -> recent.contains(m) ? node.portState(m) : node.portAfter(m, asked))
        .map(state -> state.otherwise(PortProbe.State.UNKNOWN)).toList();
    return Future.join(states).transform(done -> {
      List<String> apart = new ArrayList<>();
      int i = 0;
      for (String m : suspects) {
        PortProbe.State state = states.get(i++).result();
        if (state == PortProbe.State.ACCEPTS || state != PortProbe.State.REFUSES && recent.contains(m)) {
          apart.add(m);
        }
      }
      return Future.succeededFuture(apart);
    });
  }

  /**
   * 503 for a session no member this node reaches knows, while members it cannot reach
   * ({@code apart}) may own it: the client tries again, through this node or another, rather than
   * take its session for ended. Counted, not logged per request (an unknown id costs no log line
   * either).
   */
  private Future<TunnelReply> cutOff(TunnelCommand cmd, List<String> apart) {
    node.metrics().cutOff();
    LOG.debug("node {}: {} of session {} refused: no member this node reaches knows it, and {} may (out of reach)",
        node.id(), cmd.kind(), cmd.sessionId(), apart);
    return Future.succeededFuture(TunnelReply.failed(SessionFailure.CUT_OFF, "This proxy node is cut off from part "
        + "of the cluster, which may serve the session (a network partition): try again"));
  }

  /** Where a session lives as the members tell ({@code record}, or null), and which members did not answer. */
  private record Whereabouts(SessionRecord record, List<String> silent) {
    static final Whereabouts NOWHERE = new Whereabouts(null, List.of());

    static Whereabouts at(SessionRecord r) {
      return new Whereabouts(r, List.of());
    }
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
