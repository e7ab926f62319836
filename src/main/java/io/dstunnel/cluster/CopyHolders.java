// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.session.copy.CutOff;
import io.dstunnel.session.copy.ReplicatedSession;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The owner's side of its sessions' copy holders ({@link ClusterReplication}'s, on its event loop):
 * what they are sent (the next step, or a whole copy after one was out of reach), reaching each
 * until it answers or is found dead (a silent one holds the session's requests up to the split
 * wait, then {@link CutOff}), the lease on which the owner serves without asking them, and a new
 * holder for one that is gone or lost its copy.
 */
final class CopyHolders {

  private static final Logger LOG = LoggerFactory.getLogger(CopyHolders.class);

  private final ClusterNode node;
  private final CopyBundler bundler;

  CopyHolders(ClusterNode node) {
    this.node = node;
    this.bundler = new CopyBundler(node);
  }

  /**
   * A new session's first copies. A holder that does not acknowledge is replaced at once: nobody
   * knows the session yet (its id goes out with this answer), so nobody can ask it to adopt.
   */
  Future<Void> firstCopies(ReplicatedSession session, Ownership o, CopyOp open) {
    List<Future<Void>> all = new ArrayList<>();
    for (String b : List.copyOf(o.backups)) {
      all.add(bundler.ask(b, open).transform(ar -> {
        if (ar.succeeded() && ar.result().kind() == CopyOp.Kind.ACK) {
          return Future.succeededFuture();
        }
        node.metrics().copyFailed();
        LOG.warn("node {}: the first copy of session {} on node {} failed ({}): copying it elsewhere", node.id(),
            session.id(), b, ar.succeeded() ? ar.result().kind() : ar.cause().getMessage());
        return replaceBackup(session, o, b);
      }));
    }
    return Future.all(all).mapEmpty();
  }

  /**
   * Whether this node still owns the session: yes while the lease from its holders' last
   * acknowledgement runs ({@link #leaseNanos}); after it, the first copy holder is asked.
   */
  Future<Boolean> stillOwner(ReplicatedSession session, Ownership o) {
    String holder = o.backups.stream().filter(b -> !o.pending.contains(b)).findFirst().orElse(null);
    if (holder == null || System.nanoTime() - o.verifiedAt < leaseNanos()) {
      return Future.succeededFuture(true);
    }
    // This node may have been away (a pause, a partition): the first copy holder knows if another took over.
    CopyOp check = CopyOp.of(CopyOp.Kind.CHECK, session.id(), o.epoch, node.id());
    return reach(session, o, holder, check, splitDeadline()).map(answer -> answer != Reached.MOVED);
  }

  /**
   * How long the owner serves a session on its copy holders' last acknowledgement (timed from when
   * it was asked for): half of {@code suspectAfterMs}. A holder adopts only after it has
   * acknowledged nothing for twice as long ({@code Adoptions}), so the two never overlap.
   */
  private long leaseNanos() {
    return node.config().suspectAfterMs() * 500_000;
  }

  /** What a copy holder's answer means for the owner. */
  private enum Reached {
    /** It acknowledged: it holds the copy, at this node's epoch. */
    AGREED,
    /** It answered without the copy (lost it, or its copy was incomplete): it cannot adopt. */
    WITHOUT_COPY,
    /** Another node owns the session: this one is fenced out. */
    MOVED,
    /** Its process is gone (its port refuses): it cannot adopt. */
    DEAD
  }

  /**
   * Sends {@code op} to copy holder {@code holder} until it answers or is found dead. A holder that
   * neither answers nor refuses connections (a partition, a paused process, one the cluster manager
   * dropped from this node's view though it runs) may have adopted the session, or may adopt it:
   * nothing of the session is served meanwhile, and it is not replaced. Past {@code deadline}
   * the request fails with {@link CutOff}, the session kept.
   */
  private Future<Reached> reach(ReplicatedSession session, Ownership o, String holder, CopyOp op, long deadline) {
    long asked = System.nanoTime();
    return bundler.ask(holder, op).transform(ar -> {
      if (ar.succeeded()) {
        o.silentSince = 0;
        CopyOp r = ar.result();
        if (r.kind() == CopyOp.Kind.MOVED) {
          node.directory().learn(new SessionRecord(session.id(), r.owner(), r.epoch(), List.of()));
          LOG.warn("node {} no longer owns session {}: node {} took it over (epoch {})", node.id(), session.id(),
              r.owner(), r.epoch());
          return Future.succeededFuture(Reached.MOVED);
        }
        if (r.kind() == CopyOp.Kind.ACK) {
          o.verifiedAt = Math.max(o.verifiedAt, asked);
          return Future.succeededFuture(Reached.AGREED);
        }
        return Future.succeededFuture(Reached.WITHOUT_COPY);
      }
      return node.refuses(holder).compose(dead -> {
        if (dead) {
          o.silentSince = 0;
          return Future.succeededFuture(Reached.DEAD);
        }
        long now = System.nanoTime();
        if (o.silentSince != 0 && node.joinedAt(holder) > o.silentSince) {
          // Silent during a split that has healed since (the holder came back into the view): a
          // fresh wait, while the two sides' maps and connections settle, not an at once refusal.
          o.silentSince = 0;
        }
        if (o.silentSince == 0) {
          o.silentSince = asked;
          LOG.info("node {}: copy holder {} of session {} did not answer ({}) and is not gone: asking again until it "
              + "does", node.id(), holder, session.id(), ar.cause().getMessage());
        }
        if (now > deadline || now > o.silentSince + node.timings().splitWaitMs() * 1_000_000L) {
          node.metrics().cutOff();
          LOG.warn("node {}: copy holder {} of session {} neither answers nor is gone: the session is not served "
              + "until it answers", node.id(), holder, session.id());
          return Future.failedFuture(new CutOff("node " + node.id() + " cannot reach node " + holder
              + ", which holds the session's copy"));
        }
        return node.vertx().timer(500).compose(v -> reach(session, o, holder, op, deadline));
      });
    });
  }

  /** How long a session waits for a copy holder that neither answers nor is gone. */
  private long splitDeadline() {
    return System.nanoTime() + node.timings().splitWaitMs() * 1_000_000L;
  }

  /**
   * Tells {@code holder} to drop its copy of the session (no answer awaited), after the steps
   * already on their way to it.
   */
  void dropCopy(String holder, ReplicatedSession session, Ownership o) {
    bundler.tell(holder, CopyOp.of(CopyOp.Kind.CLOSE, session.id(), o.epoch, node.id()));
  }

  /**
   * The log's ranges left out of replays that the copies have not been told of ({@code all}: every
   * one, for a whole copy); they count as told from now.
   */
  static List<Long> exclusions(ReplicatedSession session, Ownership o, boolean all) {
    int from = all ? 0 : o.exclusionsSent;
    o.exclusionsSent = session.exclusions();
    return session.exclusionsSince(from);
  }

  /** The command handles the copies have not been told of ({@code all}: every one); told from now. */
  static List<String> handles(ReplicatedSession session, Ownership o, boolean all) {
    int from = all ? 0 : o.handlesSent;
    o.handlesSent = session.handles();
    return session.handlesSince(from);
  }

  SessionRecord record(ReplicatedSession session, Ownership o) {
    return new SessionRecord(session.id(), node.id(), o.epoch, o.backups);
  }

  /**
   * Sends {@code op} to every backup (a whole copy instead, after a holder was out of reach: what
   * it holds is not known). Fails if one answers that another node owns the session (this one is
   * fenced out), or stays out of reach ({@link #reach}). A backup that is gone, or has lost the
   * copy, is replaced by another member, which is given the whole copy.
   */
  Future<Void> toBackups(ReplicatedSession session, Ownership o, CopyOp op) {
    CopyOp sent = o.resync ? whole(session, o) : op;
    List<Future<Void>> all = new ArrayList<>();
    for (String b : List.copyOf(o.backups)) {
      all.add(reach(session, o, b, sent, splitDeadline()).transform(ar -> {
        if (ar.failed()) {
          o.resync = true;
          return Future.failedFuture(ar.cause());
        }
        return switch (ar.result()) {
          case AGREED -> Future.succeededFuture();
          case MOVED -> Future.failedFuture(new IllegalStateException("fenced: another node owns the session"));
          case WITHOUT_COPY, DEAD -> {
            node.metrics().copyFailed();
            LOG.warn("node {}: copy of session {} to node {} failed ({}): copying it elsewhere", node.id(),
                session.id(), b, ar.result());
            yield replaceBackup(session, o, b);
          }
        };
      }));
    }
    return Future.all(all).<Void>mapEmpty().onSuccess(v -> o.resync = false);
  }

  /**
   * Tells every backup {@code op}, after the steps on their way to it, without waiting for it.
   * Fails if it may not have reached one of them.
   */
  Future<Void> tellBackups(ReplicatedSession session, Ownership o, CopyOp op) {
    List<Future<Void>> all = new ArrayList<>();
    for (String b : o.backups) {
      if (!o.pending.contains(b)) {
        all.add(bundler.tell(b, op));
      }
    }
    return Future.all(all).mapEmpty();
  }

  /** The whole copy of the session as it stands. */
  private CopyOp whole(ReplicatedSession session, Ownership o) {
    return CopyOp.open(session.id(), o.epoch, node.id(), session.owner(), session.log(),
        o.writeIds.toList(), o.handout, exclusions(session, o, true), handles(session, o, true));
  }

  /** A copy holder failed: another member gets the whole copy instead (or the session goes without). */
  Future<Void> replaceBackup(ReplicatedSession session, Ownership o, String failed) {
    o.backups = new ArrayList<>(o.backups);
    if (o.backups.remove(failed)) {
      // A holder that was only slow must not keep a copy that goes stale: it could be asked to adopt.
      dropCopy(failed, session, o);
    }
    List<String> candidates = new ArrayList<>(node.staying());
    candidates.remove(node.id());
    candidates.removeAll(o.backups);
    if (candidates.size() > 1) {
      candidates.remove(failed);  // another member first; the same one again if it is the only one left
    }
    if (candidates.isEmpty() || !session.replayable()) {
      LOG.warn("session {}: copy on node {} lost, no other member to copy to", session.id(), failed);
      return Future.succeededFuture();
    }
    String next = candidates.get(0);
    o.backups.add(next);
    o.pending.add(next);
    CopyOp full = whole(session, o);
    o.recordAt = System.nanoTime();
    node.directory().publish(record(session, o));
    return bundler.ask(next, full).<Void>transform(ar -> {
      o.pending.remove(next);
      if (ar.failed() || ar.result().kind() != CopyOp.Kind.ACK) {
        node.metrics().copyFailed();
        LOG.warn("node {}: the new copy of session {} on node {} failed too", node.id(), session.id(), next);
        o.backups.remove(next);
      }
      return Future.succeededFuture();
    });
  }
}
