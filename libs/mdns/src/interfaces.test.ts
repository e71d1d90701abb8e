import { describe, expect, it } from 'vitest';
import { chooseInterfaces, diffInterfaces, hasChanges, noInterfaceReason, type MdnsInterface } from './interfaces';

const iface = (name: string, address: string, netmask = '255.255.255.0'): MdnsInterface => ({ name, address, netmask });
const eth0 = iface('eth0', '192.168.1.20');
const wlan0 = iface('wlan0', '192.168.2.30');

describe('diffInterfaces', () => {
  it('finds nothing when the interfaces are the same (even as new objects)', () => {
    const changes = diffInterfaces([eth0, wlan0], [iface('wlan0', '192.168.2.30'), iface('eth0', '192.168.1.20')]);
    expect(changes).toEqual({ added: [], removed: [], moved: [] });
    expect(hasChanges(changes)).toBe(false);
  });

  it('an interface that comes up is added; one that goes away is removed', () => {
    expect(diffInterfaces([], [eth0])).toEqual({ added: [eth0], removed: [], moved: [] });
    expect(diffInterfaces([eth0, wlan0], [wlan0])).toEqual({ added: [], removed: [eth0], moved: [] });
    expect(hasChanges(diffInterfaces([eth0], []))).toBe(true);
  });

  it('a new address (or netmask) on the same interface is a move, not a removal and an addition', () => {
    const renewed = iface('eth0', '192.168.1.99');
    expect(diffInterfaces([eth0, wlan0], [renewed, wlan0])).toEqual({ added: [], removed: [], moved: [{ from: eth0, to: renewed }] });
    const widened = iface('eth0', '192.168.1.20', '255.255.0.0');
    expect(diffInterfaces([eth0], [widened]).moved).toEqual([{ from: eth0, to: widened }]);
  });

  it('pairs moves one to one: a second address on the moved interface is an addition', () => {
    const first = iface('eth0', '10.0.0.1');
    const second = iface('eth0', '10.0.0.2');
    expect(diffInterfaces([eth0], [first, second])).toEqual({ added: [second], removed: [], moved: [{ from: eth0, to: first }] });
    expect(diffInterfaces([first, second], [eth0])).toEqual({ added: [], removed: [second], moved: [{ from: first, to: eth0 }] });
  });

  it('an interface gone while another came up under another name is a removal and an addition', () => {
    expect(diffInterfaces([eth0], [wlan0])).toEqual({ added: [wlan0], removed: [eth0], moved: [] });
  });
});

describe('noInterfaceReason', () => {
  it('is null while any chosen interface is up', () => {
    expect(noInterfaceReason(chooseInterfaces([], [eth0]))).toBeNull();
    expect(noInterfaceReason(chooseInterfaces(['eth0', 'wlan1'], [eth0]))).toBeNull();
  });

  it('says there is no LAN interface, and which named ones it waits for', () => {
    expect(noInterfaceReason(chooseInterfaces([], []))).toBe('no LAN interface');
    expect(noInterfaceReason(chooseInterfaces(['wlan1', '10.1.1.1'], [eth0]))).toBe('no LAN interface: waiting for wlan1, 10.1.1.1');
  });
});
