import { describe, expect, it } from 'vitest';
import { defaultPorts, loadStackConfig, portEnvName } from '../../../stack/config.js';

describe('loadStackConfig', () => {
  it('uses the documented default ports on 127.0.0.1', () => {
    const config = loadStackConfig({});
    expect(config.host).toBe('127.0.0.1');
    expect(config.ports.kafka).toEqual({ broker: 9092, controller: 9094, saslSsl: 9095, pod: 9096 });
    expect(config.ports.alertmanager.http).toBe(9093);
    expect(config.ports.otelcol.grpc).toBe(4317);
    expect(config.ports.jaeger.otlpGrpc).toBe(14317);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('takes each port from its AIOPS_STACK_* variable', () => {
    expect(portEnvName('jaeger', 'otlpGrpc')).toBe('AIOPS_STACK_JAEGER_OTLP_GRPC_PORT');
    const config = loadStackConfig({ AIOPS_STACK_KAFKA_BROKER_PORT: '19092', AIOPS_STACK_PROMETHEUS_HTTP_PORT: '19090' });
    expect(config.ports.kafka.broker).toBe(19092);
    expect(config.ports.prometheus.http).toBe(19090);
  });

  it('has no two default ports alike', () => {
    const all = Object.values(defaultPorts).flatMap((table) => Object.values(table));
    expect(new Set(all).size).toBe(all.length);
  });

  it('reports every problem at once: bad values and collisions', () => {
    let message = '';
    try {
      loadStackConfig({ AIOPS_STACK_KAFKA_BROKER_PORT: 'abc', AIOPS_STACK_PROMETHEUS_HTTP_PORT: '9093', AIOPS_STACK_PARTITIONS: '0' });
    } catch (error) {
      message = (error as Error).message;
      expect(error).toMatchObject({ code: 'AIOPS_ERR_CONFIG_INVALID', retriable: false });
    }
    expect(message).toContain('AIOPS_STACK_KAFKA_BROKER_PORT=abc');
    expect(message).toContain('AIOPS_STACK_ALERTMANAGER_HTTP_PORT=9093 collides with AIOPS_STACK_PROMETHEUS_HTTP_PORT');
    expect(message).toContain('AIOPS_STACK_PARTITIONS=0');
  });
});
