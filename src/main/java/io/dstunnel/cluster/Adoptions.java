// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.session.Addresses;
import io.dstunnel.session.SessionVerticle;
import io.dstunnel.session.message.Adoption;
import io.dstunnel.session.message.TunnelReply;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A copy holder's adoptions: taking a session over from its copy when a node asks (its owner
 * found dead or silent, or handing it over), once however many ask. The old owner is checked
 * first (still answering this node: the asker is the one cut off); the epoch is raised on the copy,
 * then claimed from the other members by {@link Claims} (of two holders asked at once, one adopts
 * and the others learn the new owner); the copy is replayed into a session here. A failed replay
 * is tried again on the next request, a few times, then the session ends. Used on the cluster
 * verticle's event loop, on the copies its {@link CopyKeeper} holds.
 */
final class Adoptions {

  private static final Logger LOG = LoggerFactory.getLogger(Adoptions.class);
  /** How often a session's adoption is tried (each on a request for it) before the session ends. */
  private static final int ADOPTION_TRIES = 3;

  private final Vertx vertx;
  private final ClusterNode node;
  private final Map<String, SessionCopy> copies;
  /** Sessions whose copy this node took over or saw move on (the keeper's map). */
  private final Map<String, CopyOp> moved;
  private final Claims claims;
  private final Consumer<String> drop;
  private final Map<String, Future<CopyOp>> adopting = new HashMap<>();

  /** On the keeper's {@code copies} and {@code moved}; {@code drop} lets a copy go. */
  Adoptions(ClusterNode node, Map<String, SessionCopy> copies, Map<String, CopyOp> moved, Claims claims,
            Consumer<String> drop) {
    this.vertx = node.vertx();
    this.node = node;
    this.copies = copies;
    this.moved = moved;
    this.claims = claims;
    this.drop = drop;
  }

  /** The adoption of session {@code sid} under way here, or null. */
  Future<CopyOp> underWay(String sid) {
    return adopting.get(sid);
  }

  /**
   * Takes the session over from its copy, once: a second request for the same session while the
   * first is under way gets the same answer; one that comes with an older epoch than the copy's
   * learns the owner that already took it.
   */
  Future<CopyOp> adopt(CopyOp op) {
    String sid = op.sessionId();
    Future<CopyOp> running = adopting.get(sid);
    if (running != null) {
      // A leaving owner's hand-over does not take the answer of an adoption another node asked
      // for because it found that owner silent: "the owner still answers" (MOVED to the owner
      // itself) is no hand-over, and the owner would forget a session nobody took.
      return op.count() == CopyOp.HANDED_OVER ? running.transform(ar -> adopt(op)) : running;
    }
    CopyOp gone = moved.get(sid);
    if (gone != null) {
      return Future.succeededFuture(gone);
    }
    SessionCopy copy = copies.get(sid);
    if (copy == null || !copy.replayable() || op.count() == CopyOp.HANDED_OVER && node.isLeaving(node.id())) {
      // (A node that is leaving too takes no hand-over: the owner copies the session to one that stays.)
      return Future.succeededFuture(CopyOp.of(CopyOp.Kind.UNKNOWN, sid, op.epoch(), null));
    }
    if (copy.epoch() > op.epoch() && !(copy.owner().equals(node.id()) && copy.adoptionFailed())) {
      return Future.succeededFuture(CopyOp.of(CopyOp.Kind.MOVED, sid, copy.epoch(), copy.owner()));
    }
    Future<CopyOp> done;
    if (copy.owner().equals(node.id()) && copy.adoptionFailed()) {
      // This node won the session's claim, then could not replay it (no backend answered): it tries again.
      done = adoptHere(copy, sid, "(itself, again)", op);
    } else {
      String previous = copy.owner();
      long epoch = copy.epoch();
      done = ownerAnswers(previous, op, copy).compose(alive -> {
        if (alive) {
          // The node that asked is cut off from an owner this node hears (a split): it keeps the session.
          return Future.succeededFuture(CopyOp.of(CopyOp.Kind.MOVED, sid, epoch, previous));
        }
        if (copies.get(sid) != copy || copy.epoch() != epoch) {
          return Future.succeededFuture(CopyOp.of(CopyOp.Kind.UNKNOWN, sid, op.epoch(), null));
        }
        copy.takenOver(node.id(), epoch + 1);
        return claims.claim(sid, copy.epoch(), previous)
            .compose(winner -> winner == null ? adoptHere(copy, sid, previous, op) : lost(sid, winner));
      });
    }
    adopting.put(sid, done);
    return done.onComplete(ar -> {
      adopting.remove(sid);
      if (ar.failed()) {
        failed(copy, sid, ar.cause());
      }
    });
  }

  /**
   * An adoption failed after this node won the claim: the next request for the session tries
   * again, up to {@link #ADOPTION_TRIES} times; then the session ends, copy and record, as any
   * session that lost its backends (never a session that answers nothing for ever).
   */
  private void failed(SessionCopy copy, String sid, Throwable cause) {
    node.metrics().adoptionFailed();
    if (copies.get(sid) != copy || !copy.owner().equals(node.id())) {
      LOG.warn("node {} could not adopt session {}: {}", node.id(), sid, cause.getMessage());
      return;
    }
    if (copy.adoptionFailed(ADOPTION_TRIES)) {
      LOG.warn("node {} could not adopt session {} ({}) after {} tries: the session ends", node.id(), sid,
          cause.getMessage(), ADOPTION_TRIES);
      dropCopy(sid);
      node.directory().remove(sid);
    } else {
      LOG.warn("node {} could not adopt session {} ({}): the next request for it tries again", node.id(), sid,
          cause.getMessage());
    }
  }

  /**
   * Whether the owner, which another node found dead or silent ({@code asked} is no hand-over),
   * still answers this node: then the asking node is the one cut off. An owner whose port refuses
   * is dead at once. One that is silent and not gone (paused, or across a partition) may still be
   * serving on its lease — half of {@code suspectAfterMs} from the last copy this node acknowledged
   * ({@code CopyHolders}) — so it is taken for gone only once the copy has heard nothing
   * from it for a whole {@code suspectAfterMs}, and still no answer comes.
   */
  private Future<Boolean> ownerAnswers(String owner, CopyOp asked, SessionCopy copy) {
    if (asked.count() == CopyOp.HANDED_OVER || owner == null || owner.equals(node.id())) {
      return Future.succeededFuture(false);
    }
    long suspect = node.config().suspectAfterMs();
    return node.refuses(owner).compose(gone -> gone ? Future.succeededFuture(false)
        : node.ask(owner, CopyOp.of(CopyOp.Kind.CHECK, "", 0, node.id()), Math.max(100, suspect / 4))
            .map(true).otherwise(false)
            .compose(answers -> {
              long leaseLeft = suspect - copy.silentMs(System.nanoTime());
              if (answers || leaseLeft <= 0) {
                return Future.succeededFuture(answers);
              }
              return vertx.timer(leaseLeft).compose(v -> ownerAnswers(owner, asked, copy));
            }));
  }

  /** Replays the copy into a session of this node's; the answer names this node as the owner. */
  private Future<CopyOp> adoptHere(SessionCopy copy, String sid, String previous, CopyOp asked) {
    Adoption adoption = copy.adoption(asked, previous);
    return vertx.eventBus().<TunnelReply>request(Addresses.ADOPT, adoption,
            new DeliveryOptions(Addresses.LOCAL).setSendTimeout(SessionVerticle.READ_SLICE_MS))
        .map(reply -> {
          if (reply.body().isFailure()) {
            throw new IllegalStateException(reply.body().message());
          }
          LOG.info("node {} adopted session {} from node {} (epoch {}, the client has {} answers and {} bytes of the "
              + "next, {} writes in the copy)", node.id(), sid, previous, copy.epoch(), adoption.given().answers(),
              adoption.given().partBytes(), adoption.log().size());
          node.metrics().adopted();
          dropCopy(sid);
          CopyOp result = CopyOp.of(CopyOp.Kind.MOVED, sid, copy.epoch(), node.id());
          moved.put(sid, result);
          return result;
        });
  }

  /** Another node won the claim: this copy is stale, and asking nodes learn the winner. */
  private Future<CopyOp> lost(String sid, CopyOp winner) {
    LOG.info("node {} did not adopt session {}: node {} did (epoch {})", node.id(), sid, winner.owner(),
        winner.epoch());
    dropCopy(sid);
    return Future.succeededFuture(winner);
  }

  private void dropCopy(String sid) {
    drop.accept(sid);
  }
}
