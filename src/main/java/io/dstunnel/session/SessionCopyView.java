// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import io.dstunnel.session.copy.ReplicatedSession;
import io.dstunnel.session.copy.Replication;
import io.dstunnel.session.message.Adoption;
import io.dstunnel.session.message.Progress;
import io.dstunnel.session.message.TunnelReply;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.util.List;

/**
 * A session as the cluster sees it ({@link ReplicatedSession}, what {@link Replication} is told of):
 * read through, never a back door to its parts; and the way back, a session taken over from its
 * copy ({@link #adopt}). The {@link Session} itself knows nothing of copies.
 */
final class SessionCopyView implements ReplicatedSession {

  private final Session session;

  SessionCopyView(Session session) {
    this.session = session;
  }

  /** Takes over the session from its copy: its log is replayed to a backend (see {@link Failover#adopt}). */
  Future<TunnelReply> adopt(Adoption adoption) {
    return session.failover().adopt(adoption);
  }

  @Override
  public String id() {
    return session.id();
  }

  @Override
  public String owner() {
    return session.owner();
  }

  @Override
  public boolean replayable() {
    return session.log().replayable();
  }

  @Override
  public List<Buffer> log() {
    return List.copyOf(session.log().raw());
  }

  @Override
  public long logBytes() {
    return session.log().bytes();
  }

  @Override
  public int exclusions() {
    return session.log().exclusions();
  }

  @Override
  public List<Long> exclusionsSince(int from) {
    return session.log().exclusionsSince(from);
  }

  @Override
  public int handles() {
    return session.calls().handlesLearned();
  }

  @Override
  public List<String> handlesSince(int from) {
    return session.calls().handlesSince(from);
  }

  @Override
  public Progress progress() {
    return session.progress();
  }
}
