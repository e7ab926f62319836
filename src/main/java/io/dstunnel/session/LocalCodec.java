package io.dstunnel.session;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;

/**
 * Passes tunnel commands and replies by reference on the local event bus: no copy, no JSON.
 * A clustered deployment needs a wire form, which this codec does not give yet.
 */
public final class LocalCodec<T> implements MessageCodec<T, T> {

  private final String name;

  private LocalCodec(String name) {
    this.name = name;
  }

  /** Registers the codecs for {@link TunnelCommand} and {@link TunnelReply} once per event bus. */
  public static void register(EventBus bus) {
    bus.registerDefaultCodec(TunnelCommand.class, new LocalCodec<>("dstunnel.TunnelCommand"));
    bus.registerDefaultCodec(TunnelReply.class, new LocalCodec<>("dstunnel.TunnelReply"));
  }

  @Override
  public void encodeToWire(Buffer buffer, T t) {
    throw new UnsupportedOperationException(name + " is local only");
  }

  @Override
  public T decodeFromWire(int pos, Buffer buffer) {
    throw new UnsupportedOperationException(name + " is local only");
  }

  @Override
  public T transform(T t) {
    return t;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
