import { addressLines, channelOf, deliveryFor } from '../../server/letters/letterChannel';

describe('how a letter reaches its delegation', () => {
  it('goes by email only where there is an address and no request for paper', () => {
    expect(channelOf({ email: 'nato@example.org', forcePost: false })).toBe('email');
    expect(channelOf({ email: 'nato@example.org', forcePost: true })).toBe('post');
    expect(channelOf({ email: null, forcePost: false })).toBe('post');
  });

  it('follows the writer’s choice of the pack or their own hands only for a delegation on paper', () => {
    expect(deliveryFor({ email: null, forcePost: false }, 'post')).toBe('post');
    expect(deliveryFor({ email: null, forcePost: false }, 'self')).toBe('self');
    expect(deliveryFor({ email: 'nato@example.org', forcePost: true }, 'self')).toBe('self');
    expect(deliveryFor({ email: 'nato@example.org', forcePost: false }, 'self')).toBe('email');
  });

  it('splits a one-line postal address at its commas, or at the line breaks an organiser typed', () => {
    expect(addressLines('Delegation, NATO Headquarters, Boulevard Léopold III, 1110 Brussels, Belgium')).toEqual([
      'Delegation',
      'NATO Headquarters',
      'Boulevard Léopold III',
      '1110 Brussels',
      'Belgium',
    ]);
    expect(addressLines('Delegation of A, B and C\nNATO HQ\n\n1110 Brussels')).toEqual([
      'Delegation of A, B and C',
      'NATO HQ',
      '1110 Brussels',
    ]);
    expect(addressLines(null)).toEqual([]);
  });
});
