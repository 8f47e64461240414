// One ordering for strings everywhere the operator sorts (canonical JSON, label maps, status lists):
// by UTF-16 code units, like Array.prototype.sort's default, independent of locale.
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
