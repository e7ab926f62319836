// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstunnel.framing.DbxFramer;
import io.dstunnel.support.Sockets;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;
import io.vertx.junit5.VertxExtension;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The demo server over raw TCP, as backend-protocol.md describes it. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DemoServerTest {

  /** A raw DBX connection: send a message, take the next whole answer. */
  private static final class Conn {
    private final DbxFramer framer = new DbxFramer();
    private final BlockingQueue<Buffer> answers = new LinkedBlockingQueue<>();
    private final NetSocket socket;
    private Buffer partial = Buffer.buffer();

    Conn(Vertx vertx, int port) {
      socket = Sockets.connect(vertx, port).await();
      socket.handler(chunk -> {
        int[] start = {0};
        framer.feed(chunk, end -> {
          partial.appendBuffer(chunk, start[0], end - start[0]);
          start[0] = end;
          answers.add(partial);
          partial = Buffer.buffer();
        });
        partial.appendBuffer(chunk, start[0], chunk.length() - start[0]);
      });
    }

    Buffer call(Vertx vertx, Buffer message) {
      socket.write(message).await();
      return next();
    }

    /** The next whole message from the server (an answer, or a push to a channel). */
    Buffer next() {
      try {
        Buffer answer = answers.poll(10, TimeUnit.SECONDS);
        assertThat(answer).as("an answer within 10 s").isNotNull();
        return answer;
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }

    JsonObject json(Vertx vertx, String message) {
      return new JsonObject(call(vertx, Buffer.buffer(message)));
    }
  }

  private int port;

  @BeforeEach
  void start(Vertx vertx) {
    DemoServerVerticle server = new DemoServerVerticle("127.0.0.1", 0, "T");
    vertx.deployVerticle(server).await();
    port = server.actualPort();
  }

  private static String prepare(String method) {
    return "{\"method\":\"prepare\",\"params\":[-1,false,\"DSServerMethod\",\"TServerMethods1." + method + "\"]}";
  }

  private static String execute(int handle, String args) {
    return "{\"method\":\"execute\",\"params\":[" + handle + ",[" + args + "]]}";
  }

  private static String prepareAdmin(String method) {
    return "{\"method\":\"prepare\",\"params\":[-1,false,\"DSServerMethod\",\"DSAdmin." + method + "\"]}";
  }

  @Test
  void callbackChannelsAsTheSpecsTableSays(Vertx vertx) {
    Conn channel = new Conn(vertx, port);
    channel.call(vertx, Buffer.buffer(new byte[] {5, 5, 5, 5, 5}));
    channel.json(vertx, "{\"method\":\"connect\",\"params\":[{\"DriverName\":\"Datasnap\"}]}");
    int register = channel.json(vertx, prepareAdmin("ConnectClientChannel")).getJsonArray("result").getInteger(0);
    // The registration gets no answer: the connection is a channel now.
    channel.socket.write(Buffer.buffer(execute(register, "\"news\",\"c1\",\"cb1\",\"news\",\"tok\""))).await();

    Conn other = new Conn(vertx, port);
    other.call(vertx, Buffer.buffer(new byte[] {5, 5, 5, 5, 5}));
    other.json(vertx, "{\"method\":\"connect\",\"params\":[{\"DriverName\":\"Datasnap\"}]}");
    int broadcast = other.json(vertx, prepareAdmin("BroadcastToChannel")).getJsonArray("result").getInteger(0);
    int notify = other.json(vertx, prepareAdmin("NotifyCallback")).getJsonArray("result").getInteger(0);
    int close = other.json(vertx, prepareAdmin("CloseClientChannel")).getJsonArray("result").getInteger(0);
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() ->
        other.json(vertx, execute(broadcast, "\"news\",{\"n\":1}")).encode().equals("{\"result\":[true]}"));
    assertThat(new JsonObject(channel.next()).encode()).isEqualTo("{\"callback\":[\"cb1\",{\"n\":1}]}");
    // The client answers the push; the server answers nothing to that.
    channel.socket.write(Buffer.buffer("{\"response\":[true]}")).await();
    assertThat(other.json(vertx, execute(broadcast, "\"sport\",1")).encode()).isEqualTo("{\"result\":[false]}");
    assertThat(other.json(vertx, execute(notify, "\"c1\",\"cb1\",\"just you\"")).encode())
        .isEqualTo("{\"result\":[true]}");
    assertThat(new JsonObject(channel.next()).encode()).isEqualTo("{\"callback\":[\"cb1\",\"just you\"]}");
    assertThat(other.json(vertx, execute(notify, "\"nobody\",\"cb\",1")).encode()).isEqualTo("{\"result\":[false]}");
    assertThat(other.json(vertx, execute(close, "\"c1\",\"tok\"")).encode()).isEqualTo("{\"result\":[true]}");
    assertThat(new JsonObject(channel.next()).encode()).as("the registration's answer, at last")
        .isEqualTo("{\"result\":[true]}");
    // An ordinary connection again.
    assertThat(channel.json(vertx, prepare("EchoString")).getJsonArray("result").getInteger(0)).isEqualTo(2);
  }

  @Test
  void answersEveryMethodWithDeterministicHandles(Vertx vertx) {
    Conn c = new Conn(vertx, port);
    assertThat(c.call(vertx, Buffer.buffer(new byte[] {5, 5, 5, 5, 5})).getBytes()).containsExactly(6, 0, 0, 0, 0);
    assertThat(c.json(vertx, "{\"method\":\"connect\",\"params\":[{\"DriverName\":\"Datasnap\"}]}").encode())
        .isEqualTo("{\"result\":[1,\"DataSnap\",2]}");
    assertThat(c.json(vertx, prepare("EchoString")).getJsonArray("result").getInteger(0)).isEqualTo(1);
    assertThat(c.json(vertx, prepare("ReverseString")).getJsonArray("result").getInteger(0)).isEqualTo(2);
    assertThat(c.json(vertx, prepare("Increment")).getJsonArray("result").getInteger(0)).isEqualTo(3);
    assertThat(c.json(vertx, prepare("SlowEcho")).getJsonArray("result").getInteger(0)).isEqualTo(4);
    assertThat(c.json(vertx, prepare("Blob")).getJsonArray("result").getInteger(0)).isEqualTo(5);
    assertThat(c.json(vertx, execute(1, "\"Delphi 2010\"")).getJsonArray("result").getString(0))
        .isEqualTo("Delphi 2010 (Server T)");
    assertThat(c.json(vertx, execute(2, "\"abc\"")).getJsonArray("result").getString(0)).isEqualTo("cba");
    assertThat(c.json(vertx, execute(3, "5")).getJsonArray("result").getLong(0)).isEqualTo(5);
    assertThat(c.json(vertx, execute(3, "7")).getJsonArray("result").getLong(0)).isEqualTo(12);
    assertThat(c.json(vertx, execute(4, "50,\"late\"")).getJsonArray("result").getString(0)).isEqualTo("late (Server T)");
    Buffer blob = c.call(vertx, Buffer.buffer(execute(5, "1000")));
    Buffer expected = Buffer.buffer("{\"result\":[{\"data\":[1000,");
    for (int i = 0; i < 1000; i++) {
      expected.appendByte((byte) (i % 251));
    }
    assertThat(blob).isEqualTo(expected.appendString("]}]}"));
    assertThat(c.json(vertx, "{\"method\":\"command_close\",\"params\":[1]}").encode()).isEqualTo("{\"result\":[]}");
  }

  @Test
  void echoJsonAnswersValuesNamedDataAsJson(Vertx vertx) {
    Conn c = new Conn(vertx, port);
    c.json(vertx, prepare("EchoJson"));
    for (String v : new String[] {"{\"data\":[1,\"ab\"]}", "{\"a\":1,\"data\":[2,1]}", "[{\"data\":[2,\"x\"]}]",
        "{\"data\":[100,\"ab\"]}", "\"text\"", "42"}) {
      assertThat(c.call(vertx, Buffer.buffer(execute(1, v))).toString()).isEqualTo("{\"result\":[" + v + "]}");
    }
  }

  @Test
  void dataBlockExecuteAnswersCountAndSum(Vertx vertx) {
    Conn c = new Conn(vertx, port);
    byte[] payload = "}}\"{[ \\ ]]".getBytes();
    long sum = 0;
    for (byte b : payload) {
      sum += b & 0xFF;
    }
    Buffer msg = Buffer.buffer("{\"method\":\"execute\",\"params\":[1,{\"data\":[" + payload.length + ",")
        .appendBytes(payload).appendString("]}]}");
    assertThat(new JsonObject(c.call(vertx, msg)).getJsonArray("result").encode())
        .isEqualTo("[" + payload.length + "," + sum + "]");
  }

  @Test
  void answersInRequestOrderEvenAfterASlowOne(Vertx vertx) {
    Conn c = new Conn(vertx, port);
    c.json(vertx, prepare("SlowEcho"));
    c.json(vertx, prepare("EchoString"));
    // Both requests in one write: the slow answer must still come first.
    Buffer both = Buffer.buffer(execute(1, "200,\"first\"") + execute(2, "\"second\""));
    assertThat(new JsonObject(c.call(vertx, both)).getJsonArray("result").getString(0)).isEqualTo("first (Server T)");
    assertThat(new JsonObject(c.next()).getJsonArray("result").getString(0))
        .isEqualTo("second (Server T)");
  }

  @Test
  void errorsAreDbxErrorObjects(Vertx vertx) {
    Conn c = new Conn(vertx, port);
    JsonObject unknown = c.json(vertx, "{\"method\":\"frobnicate\",\"params\":[]}");
    assertThat(unknown.getJsonObject("error").getString("name")).isEqualTo("EDBXError");
    JsonObject badHandle = c.json(vertx, execute(42, "1"));
    assertThat(badHandle.getJsonObject("error").getString("message")).contains("handle");
    JsonObject badMethod = c.json(vertx, "{\"method\":\"prepare\",\"params\":[-1,false,\"DSServerMethod\",\"TServerMethods1.Nope\"]}");
    int h = badMethod.getJsonArray("result").getInteger(0);
    assertThat(c.json(vertx, execute(h, "")).getJsonObject("error").getString("message")).contains("Nope");
  }
}
