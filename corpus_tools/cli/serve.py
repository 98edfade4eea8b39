"""`corpus-tools serve-model`: the Label Studio ML backend."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from corpus_tools.cli._common import (
    StudioKey,
    StudioUrl,
    app,
    clean_errors,
)
from corpus_tools.studio.retraining import RetrainMode


@app.command("serve-model")
@clean_errors
def serve_model_command(
    model: Annotated[
        Path | None, typer.Option(help="Model directory (default: models/prelabel).")
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 9090,
    work_dir: Annotated[
        Path, typer.Option(help="Where retrained models and their exports go.")
    ] = Path("out/ml-backend"),
    seed_export: Annotated[
        Path | None,
        typer.Option(
            help="Export to retrain on beside the new annotations (default: exports/corpus if present; without one, no retraining)."
        ),
    ] = None,
    retrain_after: Annotated[
        int, typer.Option(min=1, help="Retrain after this many new annotations.")
    ] = 20,
    retrain_steps: Annotated[
        int, typer.Option(min=1, help="Training steps of a full retrain (--retrain full).")
    ] = 200,
    retrain: Annotated[
        RetrainMode,
        typer.Option(
            help="light: refit the measure-type classifier and span CRF of the served model "
            "(seconds); full: the `train` loop on seed + annotations (minutes)."
        ),
    ] = RetrainMode.LIGHT,
    requeue: Annotated[
        bool,
        typer.Option(
            help="After a swap, re-score the unlabelled tasks and order the queue least certain first."
        ),
    ] = True,
    url: StudioUrl = None,
    api_key: StudioKey = None,
) -> None:
    """Serve the model to Label Studio as an ML backend (predict, setup, webhook retraining).

    Example: corpus-tools serve-model --port 9090, then corpus-tools studio connect-model -p NAME
    """
    from corpus_tools.prelabel import DEFAULT_MODEL_DIR
    from corpus_tools.studio.ml_backend import backend_state, check_listenable, serve

    check_listenable(host, port)  # before the model loads, and before claiming to serve

    default_seed = Path(__file__).resolve().parents[2] / "exports" / "corpus"
    seed = seed_export or (default_seed if (default_seed / "dataset").is_dir() else None)
    state = backend_state(
        model_dir=model or DEFAULT_MODEL_DIR,
        seed_export=seed,
        work_dir=work_dir,
        retrain_after=retrain_after,
        retrain_steps=retrain_steps,
        retrain_mode=retrain,
        requeue=requeue,
        url=url,
        api_key=api_key,
    )
    import logging

    # the retrain outcomes (`corpus_tools.ml_backend` logger) go to the console
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    typer.echo(
        f"ML backend serving {state.served.model_version} on http://{host}:{port} "
        f"(retrain after {retrain_after} annotations: "
        f"{retrain.value if state.retrain else 'off'})"
    )
    serve(state, host=host, port=port)
