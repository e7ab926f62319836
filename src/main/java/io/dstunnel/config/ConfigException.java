package io.dstunnel.config;

/** An invalid configuration; the message names the offending key. */
public final class ConfigException extends RuntimeException {

  public ConfigException(String key, String problem) {
    super(key + ": " + problem);
  }
}
