// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.message;

import io.vertx.core.buffer.Buffer;
import java.util.List;

/**
 * A session taken over by this node from the copy it held (its owner died, stopped answering, or
 * handed it over): everything the client wrote, how many answers the client already has, and the
 * ownership the take-over was granted.
 *
 * @param log every byte the client wrote since the open, in order
 * @param given how far the client has got: what a standby's replay answers again and is dropped
 * @param epoch the new ownership epoch (fencing token)
 * @param writeIds ids of the last writes applied (a forwarded write re-sent is not applied again)
 * @param excluded ranges of the log a replay leaves out ({start, end, …}): calls the old owner's
 *     backend ran that must not run again ({@code session.replaySkip}), a channel client's answers
 *     to pushes
 * @param from the node that owned the session (dead, silent or leaving): no place for a new copy
 * @param handles the methods the client's command handles run, as "handle=method"
 * @param unlessNothingOwed when a read asked for the adoption: how far the client has got if
 *     {@code given} leaves it owed nothing (a client reads only when it awaits answer bytes, so
 *     the last answer handed out never reached it: the owner died between saying it was on its way
 *     and writing it); null otherwise
 */
public record Adoption(String sessionId, String user, List<Buffer> log, Progress given, long epoch,
                       List<Long> writeIds, List<Long> excluded, String from, List<String> handles,
                       Progress unlessNothingOwed) {
}
