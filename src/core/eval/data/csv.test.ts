import { describe, expect, it } from 'vitest';
import { labelsToIndices, parseLabelsCsv, resolveLabels } from './csv';

describe('parseLabelsCsv', () => {
  it('reads headerless comma CSV', () => {
    expect([...parseLabelsCsv('a.png,3\nb.png,7\n')]).toEqual([
      ['a.png', '3'],
      ['b.png', '7'],
    ]);
  });

  it('detects headers and their columns', () => {
    expect([...parseLabelsCsv('filename,label\r\nx.jpg,cat\r\n')]).toEqual([['x.jpg', 'cat']]);
    expect([...parseLabelsCsv('path;class\nimgs/y.png;dog\n')]).toEqual([['imgs/y.png', 'dog']]);
    expect([...parseLabelsCsv('id\twidth\tlabel\nq\t12\t4\n')]).toEqual([['q', '4']]);
    expect([...parseLabelsCsv('label,image\n5,z.png\n')]).toEqual([['z.png', '5']]);
  });

  it('handles tabs, semicolons, quotes, BOM and blank lines', () => {
    expect([...parseLabelsCsv('\uFEFFimage\tlabel\n\nm.png\t1\n')]).toEqual([['m.png', '1']]);
    expect([...parseLabelsCsv('"my, file.png";"a ""b"""\n')]).toEqual([['my, file.png', 'a "b"']]);
    expect([...parseLabelsCsv('"a.png","x"\n./b\\c.png,y')]).toEqual([
      ['a.png', 'x'],
      ['b/c.png', 'y'],
    ]);
  });

  it('reports bad rows and conflicts with line numbers', () => {
    expect(() => parseLabelsCsv('file,label\na.png\n', 'l.csv')).toThrow("l.csv line 2: expected a file name and a label separated by ','.");
    expect(() => parseLabelsCsv('a.png,1\na.png,2\n')).toThrow(/line 2: 'a.png' is labelled both '1' and '2'/);
    expect(() => parseLabelsCsv('  \n')).toThrow(/empty/);
  });
});

describe('resolveLabels', () => {
  it('keeps integer labels and maps names in sorted order', () => {
    expect(labelsToIndices(['3', '0', '3'])).toEqual({ labels: [3, 0, 3] });
    expect(labelsToIndices(['dog', 'cat', 'bird', 'cat'])).toEqual({ labels: [2, 1, 0, 1], classNames: ['bird', 'cat', 'dog'] });
    expect(labelsToIndices(['B', 'a'])).toEqual({ labels: [0, 1], classNames: ['B', 'a'] }); // code-point order, like sorted()
  });

  it('matches by full path, trailing path, basename, then stem', () => {
    const map = new Map([
      ['train/a.png', 'cat'],
      ['b.png', 'dog'],
      ['c', 'cat'],
      ['d/x.png', 'cat'],
      ['e/x.png', 'dog'],
    ]);
    const ids = ['train/a.png', 'root/b.png', 'deep/c.jpg', 'top/d/x.png', 'e/x.png'];
    expect(resolveLabels(ids, map)).toEqual({ labels: [0, 1, 0, 0, 1], classNames: ['cat', 'dog'] });
  });

  it('labels from folder names', () => {
    expect(resolveLabels(['z/1.png', 'a/2.png'], ['z', 'a'])).toEqual({ labels: [1, 0], classNames: ['a', 'z'] });
  });

  it('says which files have no label', () => {
    const map = new Map([['a.png', '1']]);
    expect(() => resolveLabels(['a.png', 'b.png'], map, 'labels.csv')).toThrow("labels.csv has no label for 'b.png'.");
    expect(() => resolveLabels(['q.png'], map)).toThrow(/names none of the 1 files.*'q.png'.*'a.png'/);
    // Two rows share the basename with different labels: ambiguous, so no match.
    expect(() =>
      resolveLabels(
        ['x.png'],
        new Map([
          ['d/x.png', '1'],
          ['e/x.png', '2'],
        ]),
      ),
    ).toThrow(/names none/);
  });
});
