'use strict';
// The outfit builder (outfits/admin_outfits.py OutfitBuilderInline): ↑/↓ buttons on each piece move
// it in the list and keep the `position` fields in the order shown. Buttons, not drag alone, so the
// keyboard and screen readers can reorder; the position field stays editable without script.
(function() {
    function builder() {
        const fieldset = document.querySelector('fieldset.outfit-builder');
        return fieldset && fieldset.closest('.inline-group');
    }
    function rows(group) {
        return Array.from(group.querySelectorAll('tbody tr.form-row'))
            .filter((row) => !row.classList.contains('empty-form'));
    }
    function positionOf(row) {
        return row.querySelector('td.field-position input');
    }
    function announce(group, text) {
        let live = group.querySelector('.piece-move-status');
        if (!live) {
            live = document.createElement('p');
            live.className = 'piece-move-status help';
            live.setAttribute('aria-live', 'polite');
            group.appendChild(live);
        }
        live.textContent = text;
    }
    function move(group, row, step, button) {
        const list = rows(group);
        const from = list.indexOf(row);
        const to = from + step;
        if (to < 0 || to >= list.length) {
            return;
        }
        const other = list[to];
        if (step < 0) {
            other.before(row);
        } else {
            other.after(row);
        }
        const values = list.map((r) => Number(positionOf(r).value || 0));
        if (new Set(values).size === values.length) {
            // Distinct positions: swap the two, so the other pieces' rows stay unchanged.
            const a = positionOf(row).value;
            positionOf(row).value = positionOf(other).value;
            positionOf(other).value = a;
        } else {
            // Ties (e.g. every piece at 0) carry no order: number them as shown.
            rows(group).forEach((r, i) => { positionOf(r).value = i; });
        }
        button.focus();
        announce(group, 'Moved to place ' + (to + 1) + ' of ' + list.length + '.');
    }
    function addButtons(group, row) {
        const cell = row.querySelector('td.field-position');
        if (!cell || cell.querySelector('.piece-move')) {
            return;
        }
        const box = document.createElement('span');
        box.className = 'piece-move';
        [[-1, '↑', 'Move piece up'], [1, '↓', 'Move piece down']].forEach(([step, text, label]) => {
            const button = document.createElement('button');
            button.type = 'button';
            button.className = step < 0 ? 'piece-up' : 'piece-down';
            button.textContent = text;
            button.title = label;
            button.setAttribute('aria-label', label);
            button.addEventListener('click', () => move(group, row, step, button));
            box.appendChild(button);
        });
        cell.appendChild(box);
    }
    function showPiece(row, piece) {
        const photo = row.querySelector('td.field-photo');
        const slot = row.querySelector('td.field-slot');
        const quality = row.querySelector('td.field-quality');
        if (photo && piece.image) {
            const img = document.createElement('img');
            img.className = 'outfit-piece-photo';
            img.src = piece.image;
            img.alt = piece.title;
            photo.replaceChildren(img);
        }
        if (slot) {
            slot.textContent = piece.slot + ' · ' + piece.category;
        }
        if (quality) {
            quality.textContent = (piece.verdict || 'not analysed') +
                (piece.score === null ? '' : ' ' + piece.score.toFixed(2));
        }
    }
    function previewPicked(group, select) {
        // A piece just picked in the search: show its photo before saving (the preview view is the
        // changelist's own URL plus pieces/<id>/preview/).
        const row = select.closest('tr.form-row');
        if (!row || !group.contains(row) || !select.value) {
            return;
        }
        const base = window.location.pathname.replace(/(\/libraryoutfit\/).*$/, '$1');
        fetch(base + 'pieces/' + encodeURIComponent(select.value) + '/preview/', {credentials: 'same-origin'})
            .then((response) => (response.ok ? response.json() : null))
            .then((piece) => { if (piece) { showPiece(row, piece); } })
            .catch(() => {});
    }
    document.addEventListener('DOMContentLoaded', () => {
        const group = builder();
        if (!group) {
            return;
        }
        rows(group).forEach((row) => addButtons(group, row));
        // Select2 announces a choice with a jQuery event, which native listeners do not hear.
        if (window.django && window.django.jQuery) {
            window.django.jQuery(group).on('change', 'td.field-item select', (event) => {
                previewPicked(group, event.target);
            });
        }
        document.addEventListener('formset:added', (event) => {
            const row = event.target;
            if (!group.contains(row)) {
                return;
            }
            // A new piece goes last.
            const others = rows(group).filter((r) => r !== row);
            const last = Math.max(-1, ...others.map((r) => Number(positionOf(r).value || 0)));
            positionOf(row).value = last + 1;
            addButtons(group, row);
        });
    });
})();
