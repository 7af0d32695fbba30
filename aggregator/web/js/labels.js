// Words shared by several views: sectors, statuses, approvals, periods,
// age bands.
import { t, has, formatMonth } from './i18n.js';

export function sectorName(sector) {
  return has(`sector.${sector}`) ? t(`sector.${sector}`) : sector;
}

// The default name of a group made of nodes of these sectors.
export function sectorLabel(sector) {
  return has(`sector_label.${sector}`) ? t(`sector_label.${sector}`) : sector;
}

export function statusName(status) {
  return has(`status.${status}`) ? t(`status.${status}`) : status;
}

export function approvalName(a) {
  return has(`approval.${a}`) ? t(`approval.${a}`) : a;
}

export function periodText(p) {
  if (!p || !p.from || !p.to) return t('period.none');
  return t('period.range', { from: formatMonth(p.from), to: formatMonth(p.to) });
}

// [[0,5],[6,12]] as "0–5, 6–12 år"
export function gridText(grid) {
  return t('builder.grid_text', { bands: grid.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}–${hi}`)).join(', ') });
}

// "6-12" from the result as "6–12 år"
export function bandText(band) {
  return t('result.band', { band: String(band).replace('-', '–') });
}

export function sexName(s) {
  return s === 'F' ? t('result.sex_f') : s === 'M' ? t('result.sex_m') : s;
}

export const TERMINAL = new Set(['released', 'failed', 'rejected']);
