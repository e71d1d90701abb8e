import { describe, expect, it } from 'vitest';
import { SharedAnswer } from './shared-answer';

describe('SharedAnswer', () => {
  it('asks once for every caller while a question is in flight, and not again while the answer is fresh', async () => {
    let clock = 1_000;
    let asked = 0;
    let release: (value: string) => void = () => undefined;
    const answer = new SharedAnswer(
      () => {
        asked += 1;
        return new Promise<string>((resolve) => (release = resolve));
      },
      1_000,
      () => clock,
    );
    const waiting = [answer.get(), answer.get(), answer.get()];
    expect(asked).toBe(1);
    release('first');
    expect(await Promise.all(waiting)).toEqual(['first', 'first', 'first']);
    clock += 999;
    expect(await answer.get()).toBe('first');
    expect(asked).toBe(1);
    clock += 1;
    const next = answer.get();
    expect(asked).toBe(2);
    release('second');
    expect(await next).toBe('second');
  });

  it('asks again after a question fails', async () => {
    let asked = 0;
    const answer = new SharedAnswer(() => {
      asked += 1;
      return asked === 1 ? Promise.reject(new Error('lost')) : Promise.resolve('back');
    }, 1_000);
    await expect(answer.get()).rejects.toThrow('lost');
    expect(await answer.get()).toBe('back');
  });
});
