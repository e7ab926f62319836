// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dstunnel.Dstunnel;
import io.dstunnel.demo.TunnelClient;
import io.dstunnel.session.message.SessionFailure;
import io.dstunnel.session.message.TunnelCommand;
import io.dstunnel.session.message.TunnelCommand.Acting;
import io.dstunnel.session.message.TunnelCommand.Kind;
import io.dstunnel.session.message.TunnelReply;
import io.dstunnel.support.Backends;
import io.dstunnel.support.Proxies;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every command says who acts, and the session checks it before anything else: its owner, a
 * client known by the session id where the protocol allows it, an operator's close; a command
 * that says nobody is refused as another user's is (issue 22, item 4). The cluster's side is
 * {@code cluster.ForwardedUserIT}.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WhoActsTest {

  @Test
  void aCommandActsOnlyForWhomTheSessionAllows() {
    TunnelCommand nobody = TunnelCommand.read("s", null, 10, 1, 1000);
    assertThat(nobody.acting()).isNull();
    assertThat(nobody.mayAct("alice")).isFalse();
    assertThat(nobody.mayAct(null)).as("not even a session opened without authentication").isFalse();
    assertThat(TunnelCommand.read("s", "alice", 10, 1, 1000).mayAct("alice")).isTrue();
    assertThat(TunnelCommand.read("s", "bob", 10, 1, 1000).mayAct("alice")).isFalse();
    assertThat(TunnelCommand.read("s", "alice", 10, 1, 1000).mayAct(null)).isFalse();
    assertThat(nobody.by(Acting.SESSION_ID).mayAct("alice")).isTrue();
    assertThat(nobody.by(Acting.NO_AUTH).mayAct(null)).isTrue();
    assertThat(nobody.by(Acting.NO_AUTH).mayAct("alice")).as("a node with no users, on alice's session").isFalse();
    assertThat(TunnelCommand.operatorClose("s").mayAct("alice")).isTrue();
    TunnelCommand operatorRead = new TunnelCommand(Kind.READ, "s", null, Acting.OPERATOR, null, 10, 1, 0, 1000);
    assertThat(operatorRead.mayAct("alice")).as("an operator only closes").isFalse();
    assertThatThrownBy(() -> TunnelCommand.read("s", "alice", 10, 1, 1000).by(Acting.SESSION_ID))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> nobody.by(Acting.OPERATOR)).isInstanceOf(IllegalArgumentException.class);
    assertThat(nobody.by(Acting.SESSION_ID).slice(50).acting()).as("a forwarded read's slice").isEqualTo(Acting.SESSION_ID);
  }

  /** On one node, straight onto the session's address: refused unless its owner's (or its id's) command. */
  @Test
  void theSessionRefusesACommandThatSaysNobodyOrAnotherUser(Vertx vertx) {
    Dstunnel proxy = Proxies.config().backend("a", Backends.start(vertx, "A").port(), 0).start(vertx);
    TunnelClient c = Proxies.client(vertx, proxy);
    c.handshake().await();
    int echo = c.prepare("EchoString").await();
    String sid = c.sessionId();
    c.write(TunnelClient.executeRequest(echo, "mine")).await();
    for (TunnelCommand cmd : List.of(TunnelCommand.read(sid, null, 32768, 7, 100),
        TunnelCommand.read(sid, "eve", 32768, 7, 100), TunnelCommand.read(sid, null, 32768, 7, 100).by(Acting.NO_AUTH),
        new TunnelCommand(Kind.READ, sid, null, Acting.OPERATOR, null, 32768, 7, 0, 100),
        TunnelCommand.close(sid, null))) {
      TunnelReply reply = vertx.eventBus().<TunnelReply>request(Addresses.session(sid), cmd,
          new DeliveryOptions(Addresses.LOCAL)).map(m -> m.body()).await();
      assertThat(reply.failure()).as("%s", cmd).isEqualTo(SessionFailure.NOT_OWNER);
      assertThat(reply.message()).isEqualTo("Session belongs to another user");
    }
    assertThat(c.readMessage().await().toString()).contains("mine (Server A)");
    assertThat(c.execute(echo, "still mine").await()).isEqualTo("still mine (Server A)");
  }

  /** Only the admin listener makes an operator's command (after its role check). */
  @Test
  void onlyTheAdminListenerActsAsAnOperator() throws IOException {
    Path main = Path.of("src/main/java/io/dstunnel");
    try (Stream<Path> files = Files.walk(main)) {
      List<String> makers = files.filter(p -> p.toString().endsWith(".java")).filter(p -> {
        try {
          String text = Files.readString(p);
          return text.contains("operatorClose(") || text.contains("Acting.OPERATOR");
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      }).map(p -> main.relativize(p).toString()).sorted().toList();
      assertThat(makers).containsExactly("admin/AdminApi.java", "session/message/TunnelCommand.java");
    }
  }
}
