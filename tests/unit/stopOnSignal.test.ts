import { createLogger } from '../../server/logger';
import { stopOnSignal, stopOnWriteFailure } from '../../server/ops/shutdown';

// The real signals are left alone: these tests send SIGUSR2, which nothing else here listens to.
const signal = 'SIGUSR2';

describe('stopping on a signal, or for a failure a restart mends', () => {
  let exit: jest.SpyInstance;
  let finish: () => void;
  let stops: number;
  const stop = () => {
    stops++;
    return new Promise<void>((resolve) => (finish = resolve));
  };
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  beforeEach(() => {
    // The forced exit after 25 s must never reach the test process.
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'] });
    exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    stops = 0;
  });
  afterEach(() => {
    process.removeAllListeners(signal);
    exit.mockRestore();
    jest.useRealTimers();
  });

  it('exits 0 once the stop a signal began is done, and at once with 1 on a second signal', async () => {
    stopOnSignal(createLogger('silent'), 'Test', stop, [signal]);
    process.emit(signal, signal);
    expect(stops).toBe(1);
    process.emit(signal, signal);
    expect(exit).toHaveBeenCalledWith(1);
  });

  it('exits 1 once a stop begun by a failure is done, and lets it finish when one signal arrives meanwhile', async () => {
    const begin = stopOnSignal(createLogger('silent'), 'Test', stop, [signal]);
    begin('write failure', 1);
    process.emit(signal, signal); // a supervisor's SIGTERM during the stop
    expect(stops).toBe(1);
    expect(exit).not.toHaveBeenCalled();
    finish();
    await settle();
    expect(exit).toHaveBeenCalledWith(1);
    expect(exit).toHaveBeenCalledTimes(1);
  });

  it('exits 1 when a failure comes during a stop a signal began', async () => {
    const begin = stopOnSignal(createLogger('silent'), 'Test', stop, [signal]);
    process.emit(signal, signal);
    begin('write failure', 1);
    expect(stops).toBe(1);
    finish();
    await settle();
    expect(exit).toHaveBeenCalledWith(1);
  });

  it('begins the stop with status 1 when the store says writes failed', async () => {
    const begin = stopOnSignal(createLogger('silent'), 'Test', stop, [signal]);
    let listener: ((error: Error) => void) | undefined;
    stopOnWriteFailure({ onWriteFailure: (l) => (listener = l) }, createLogger('silent'), begin);
    listener!(new Error('the WAL could not be written to disk: EIO'));
    expect(stops).toBe(1);
    finish();
    await settle();
    expect(exit).toHaveBeenCalledWith(1);
  });
});
