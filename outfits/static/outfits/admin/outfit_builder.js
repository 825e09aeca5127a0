'use strict';
// The outfit builder (outfits/admin_outfits.py OutfitBuilderInline): ↑/↓ buttons on each piece, or
// dragging its handle onto another piece, move it in the list and keep the `position` fields in the
// order shown. Buttons, not drag alone, so the keyboard and screen readers can reorder; the position
// field stays editable without script. The search for pieces shows each result's photo.
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
            numberAsShown(group);
        }
        button.focus();
        announce(group, 'Moved to place ' + (to + 1) + ' of ' + list.length + '.');
    }
    function numberAsShown(group) {
        rows(group).forEach((r, i) => { positionOf(r).value = i; });
    }
    // Drag and drop (native HTML5 events): the piece dropped on another takes that piece's place.
    let dragged = null;
    function dropTarget(group, event) {
        const row = event.target.closest && event.target.closest('tr.form-row');
        return dragged && row && row !== dragged && rows(group).includes(row) ? row : null;
    }
    function clearMarks(group) {
        group.querySelectorAll('.piece-drop-target').forEach((r) => r.classList.remove('piece-drop-target'));
    }
    function enableDrag(group) {
        group.addEventListener('dragstart', (event) => {
            const handle = event.target.closest && event.target.closest('.piece-drag');
            if (!handle) {
                return;
            }
            dragged = handle.closest('tr.form-row');
            dragged.classList.add('piece-dragging');
            event.dataTransfer.effectAllowed = 'move';
            event.dataTransfer.setData('text/plain', positionOf(dragged).name);
            if (event.dataTransfer.setDragImage) {
                event.dataTransfer.setDragImage(dragged, 20, 20);
            }
        });
        ['dragenter', 'dragover'].forEach((type) => group.addEventListener(type, (event) => {
            const row = dropTarget(group, event);
            if (!row) {
                return;
            }
            event.preventDefault();  // allows the drop
            event.dataTransfer.dropEffect = 'move';
            clearMarks(group);
            row.classList.add('piece-drop-target');
        }));
        group.addEventListener('drop', (event) => {
            const row = dropTarget(group, event);
            if (!row) {
                return;
            }
            event.preventDefault();
            const list = rows(group);
            if (list.indexOf(dragged) < list.indexOf(row)) {
                row.after(dragged);
            } else {
                row.before(dragged);
            }
            numberAsShown(group);
            const shown = rows(group);
            announce(group, 'Moved to place ' + (shown.indexOf(dragged) + 1) + ' of ' + shown.length + '.');
        });
        group.addEventListener('dragend', () => {
            if (dragged) {
                dragged.classList.remove('piece-dragging');
            }
            dragged = null;
            clearMarks(group);
        });
    }
    function addButtons(group, row) {
        const cell = row.querySelector('td.field-position');
        if (!cell || cell.querySelector('.piece-move')) {
            return;
        }
        const box = document.createElement('span');
        box.className = 'piece-move';
        // The mouse's way; hidden from screen readers, whose way is the buttons beside it.
        const handle = document.createElement('span');
        handle.className = 'piece-drag';
        handle.draggable = true;
        handle.textContent = '⠿';
        handle.title = 'Drag onto another piece to take its place';
        handle.setAttribute('aria-hidden', 'true');
        box.appendChild(handle);
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
    function pieceResult(result) {
        // A search result: the piece's photo beside its id and slot (built as nodes: no markup from data).
        if (result.loading || !result.id) {
            return result.text;
        }
        const box = document.createElement('span');
        box.className = 'piece-option';
        if (result.image) {
            const img = document.createElement('img');
            img.className = 'piece-option-photo';
            img.src = result.image;
            img.alt = '';  // the id beside it names the piece
            img.loading = 'lazy';
            box.appendChild(img);
        }
        const title = document.createElement('span');
        title.className = 'piece-option-title';
        title.textContent = result.text;
        box.appendChild(title);
        if (result.slot) {
            const slot = document.createElement('span');
            slot.className = 'piece-option-slot';
            slot.textContent = result.slot;
            box.appendChild(slot);
        }
        return box;
    }
    function startSearch(select) {
        // Django's autocomplete.js set-up (url, theme, paging from the data- attributes), plus photos.
        window.django.jQuery(select).select2({
            ajax: {
                data: (params) => ({
                    term: params.term,
                    page: params.page,
                    app_label: select.dataset.appLabel,
                    model_name: select.dataset.modelName,
                    field_name: select.dataset.fieldName,
                }),
            },
            templateResult: pieceResult,
        });
    }
    function startSearches(root) {
        if (!(window.django && window.django.jQuery && window.django.jQuery.fn.select2)) {
            return;
        }
        root.querySelectorAll('select.piece-search').forEach((select) => {
            if (!select.name.includes('__prefix__')) {
                startSearch(select);
            }
        });
    }
    document.addEventListener('DOMContentLoaded', () => {
        const group = builder();
        if (!group) {
            return;
        }
        startSearches(group);
        rows(group).forEach((row) => addButtons(group, row));
        enableDrag(group);
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
            startSearches(row);
            addButtons(group, row);
        });
    });
})();
