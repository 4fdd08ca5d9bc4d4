"""The BEEP3D network (paper section 3) on a MAFT base: student, teacher, pseudo-masks, losses.

Every equation of the paper is one function, named after what it computes, with its number in the
docstring:

=========  =========================================================  ======================================
equation   what it computes                                           function
=========  =========================================================  ======================================
eq. 1      query-feature similarity rho = sigmoid(Q_c,L F^T)          ``pseudo_masks.query_similarity``
eq. 2      rho' of each (point, containing box) pair, and the argmax  ``pseudo_masks.contest_scores``,
                                                                      ``pseudo_masks.decide_contests``
eq. 3      the points given to each box, P_i^u                        the labels of ``decide_contests``
eq. 4      pseudo-masks m-hat^u as 0/1 masks                          ``pseudo_masks.labels_to_point_masks``
eq. 5      teacher position queries softmax(P_FPS C^T) C              ``teacher_queries.fps_position_queries``
eq. 6      refinement Q_p,t <- softmax(Q_p,t C^T) C after a layer     ``teacher_queries.refine_position_queries``
eq. 7      query consistency L_q = ||Q_c,L^S - Q_c,L^T||_1            ``losses.query_consistency_loss``
eq. 8      teacher mask features F_k^T over m^l u m-hat^u             ``losses.teacher_mask_features``
eq. 9      student mask features F_k^S over its predicted mask        ``losses.student_mask_features``
eq. 10     feature consistency L_f = sum_k ||F_k^T - F_k^S||^2        ``losses.feature_consistency_loss``
eq. 11     L_mask = l_bce L_bce + l_dice L_dice + l_cls L_cls         ``losses.mask_loss``
eq. 12     L = L_mask + l_q L_q + l_f L_f                             ``losses.beep3d_loss``
eq. A1     EMA decay alpha_t = min(1 - 1/(t+1), alpha)                ``ema.ema_decay``
=========  =========================================================  ======================================

The project's extensions are named steps of their own, each a config option (README, "The model, and
the choices the paper leaves open"): one teacher query per box centre (``teacher_queries.pin_to_box_centers``),
the nested-box rule (``pseudo_masks.nested_box_priority``, applied first by ``decide_contests``), the
volume prior of eq. 2 (``pseudo_masks.with_volume_prior`` with ``log_volume_bias``), the recognition
check (``pseudo_masks.with_recognition_check`` with ``recognised_boxes``), what decided each point
(``pseudo_masks.contest_deciders``), and the losses training adds to eq. 12
(``losses.auxiliary_losses``). ``pseudo_masks.assign_points_to_boxes`` runs the eq. 2 steps in their
order (``Beep3DModel.decide_with_logits`` chooses them from the config and resolver options). ``student_losses.scene_losses`` computes the student's loss parts on one scene; the thin
:class:`beep3d_model.Beep3DModel` holds student and teacher and puts everything together.
"""
